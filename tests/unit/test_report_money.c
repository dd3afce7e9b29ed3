/*
 * test_report_money.c - currency exponents (zero-, two- and three-decimal
 * currencies as Stripe lists them) and exact decimal formatting of minor
 * units, negative amounts and the extremes of a long long included.
 */
#include <limits.h>

#include "harness.h"
#include "report_money.h"

static const char *fmt(long long v, const char *cur)
{
	static char buf[64];

	report_money_format(v, cur, buf, sizeof buf);
	return buf;
}

static void test_exponents(void)
{
	CHECK_INT(report_money_exponent("usd"), 2);
	CHECK_INT(report_money_exponent("EUR"), 2);
	CHECK_INT(report_money_exponent("jpy"), 0);
	CHECK_INT(report_money_exponent("KRW"), 0);
	CHECK_INT(report_money_exponent("vnd"), 0);
	CHECK_INT(report_money_exponent("xof"), 0);
	CHECK_INT(report_money_exponent("bhd"), 3);
	CHECK_INT(report_money_exponent("kwd"), 3);
	CHECK_INT(report_money_exponent("omr"), 3);
	CHECK_INT(report_money_exponent("jod"), 3);
	CHECK_INT(report_money_exponent("TND"), 3);
	CHECK_INT(report_money_exponent("isk"), 2);
	CHECK_INT(report_money_exponent("zzz"), 2);
	CHECK_INT(report_money_exponent(NULL), 2);
}

static void test_format(void)
{
	CHECK_STR(fmt(1999, "usd"), "19.99");
	CHECK_STR(fmt(5, "usd"), "0.05");
	CHECK_STR(fmt(-5, "usd"), "-0.05");
	CHECK_STR(fmt(0, "eur"), "0.00");
	CHECK_STR(fmt(-2450, "eur"), "-24.50");
	CHECK_STR(fmt(5000, "jpy"), "5000");
	CHECK_STR(fmt(-5000, "jpy"), "-5000");
	CHECK_STR(fmt(0, "krw"), "0");
	CHECK_STR(fmt(3500, "bhd"), "3.500");
	CHECK_STR(fmt(1, "kwd"), "0.001");
	CHECK_STR(fmt(-1750, "bhd"), "-1.750");
	CHECK_STR(fmt(LLONG_MAX, "usd"), "92233720368547758.07");
	CHECK_STR(fmt(LLONG_MIN, "usd"), "-92233720368547758.08");
	CHECK_STR(fmt(LLONG_MIN, "jpy"), "-9223372036854775808");
	CHECK_STR(fmt(LLONG_MIN, "bhd"), "-9223372036854775.808");
}

int main(void)
{
	RUN(test_exponents);
	RUN(test_format);
	return harness_done();
}
