/*
 * report_money.h - amounts in a currency's minor unit as decimal strings.
 *
 * Stripe sends every amount as an integer in the currency's smallest unit;
 * trueup keeps them so end to end (SPEC "Money is exact").  Only at the
 * edge, in a report cell, is an amount written as a decimal, with as many
 * fraction digits as the currency has (Stripe's list, "Zero-decimal" and
 * "Three-decimal" currencies):
 *   0  BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF
 *   3  BHD JOD KWD OMR TND
 *   2  every other currency (ISK, HUF and TWD too, as Stripe's API does)
 * Codes are matched case-insensitively.  No floating point is involved.
 */
#ifndef TRUEUP_REPORT_MONEY_H
#define TRUEUP_REPORT_MONEY_H

#include <stddef.h>

/* The number of fraction digits of currency (a 3-letter code); 2 when unknown. */
int report_money_exponent(const char *currency);

/*
 * Write minor (in currency's minor unit) as a decimal into buf, e.g.
 * 1999 usd -> "19.99", -5 usd -> "-0.05", 5000 jpy -> "5000",
 * 3500 bhd -> "3.500".  buf needs 32 bytes for any long long.  Returns
 * the length written.
 */
int report_money_format(long long minor, const char *currency, char *buf, size_t sz);

#endif
