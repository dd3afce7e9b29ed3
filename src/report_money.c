/*
 * report_money.c - currency exponents and exact decimal formatting; see
 * report_money.h.
 */
#include <stdio.h>
#include <strings.h>

#include "report_money.h"

static const char *const zero_decimal[] = {
	"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
	"vuv", "xaf", "xof", "xpf"
};
static const char *const three_decimal[] = { "bhd", "jod", "kwd", "omr", "tnd" };

static int in(const char *c, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(c, list[i]) == 0)
			return 1;
	return 0;
}

int report_money_exponent(const char *currency)
{
	if (!currency)
		return 2;
	if (in(currency, zero_decimal, sizeof zero_decimal / sizeof zero_decimal[0]))
		return 0;
	if (in(currency, three_decimal, sizeof three_decimal / sizeof three_decimal[0]))
		return 3;
	return 2;
}

int report_money_format(long long minor, const char *currency, char *buf, size_t sz)
{
	int exp = report_money_exponent(currency);
	unsigned long long a, p = exp == 3 ? 1000 : exp == 2 ? 100 : 1;

	/* the magnitude without overflow, LLONG_MIN included */
	a = minor < 0 ? 0ULL - (unsigned long long)minor : (unsigned long long)minor;
	if (exp == 0)
		return snprintf(buf, sz, "%s%llu", minor < 0 ? "-" : "", a);
	return snprintf(buf, sz, "%s%llu.%0*llu", minor < 0 ? "-" : "", a / p, exp, a % p);
}
