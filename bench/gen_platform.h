/*
 * gen_platform.h - a synthetic course platform and its Stripe snapshot,
 * written straight into a trueup database, with drift injected at known,
 * random places (issue 4: the property test and the reconcile benchmark).
 *
 * gen_platform() fills an initialised, empty trueup database (every
 * migration applied, no platform rows, no pull) with `units` units.  A unit
 * is one tenant with everything around it: its owner and members, the
 * purchase intent, the Stripe customer, checkout session (with line
 * items), subscription (with items) and invoice, the platform subscription,
 * entitlements and seats, courses, events and usage; some units also have
 * a student who bought a course program (enrolment and step progress), or
 * an abandoned checkout.  Archetypes: subscription tenants on every paid
 * plan of the events/LMS catalogue (config/catalogues/events_lms), tenants
 * that paid once (mode payment), admin grants and free attendee tenants.
 * Prices map to plans through every path of the catalogue: price id,
 * lookup_key, price metadata and product metadata.  One finished full pull
 * run is recorded, so reconcile accepts the snapshot.
 *
 * Clean, the platform yields exactly one finding under `trueup reconcile`
 * with config/trueup.json at time `now`: G1 for each admin grant.  It holds
 * near misses of most rules (past_due inside the grace period, partial
 * refunds, rebooked steps, released seats, an older audience figure above
 * the limit, admin grants that look stale).
 *
 * With drift > 0, round(units * drift) units chosen at random get one
 * drift each; the kinds are dealt out in a shuffled round, so once there
 * are at least GEN_NKINDS drifted units every kind occurs.  Each kind
 * knows every finding it causes, including where two rules meet on one
 * object (P1 with P3 or E1, E7 with E6, R1 with P2), and adds them all to
 * the expected list.
 *
 * The expected list is every open finding reconcile must report, as
 * (rule, subject, cause) with subject "<type>:<id>" as in the findings
 * table; cause names the drift kind ("admin_grant" for G1 of the clean
 * platform).
 */
#ifndef TRUEUP_GEN_PLATFORM_H
#define TRUEUP_GEN_PLATFORM_H

#include <sqlite3.h>
#include <stddef.h>

/* Number of drift kinds (gen_kind_name(0 .. GEN_NKINDS-1)). */
#define GEN_NKINDS 29

struct gen_opts {
	long long units;            /* tenants (units), >= 1 */
	double drift;               /* fraction of units with one drift, 0 .. 1 */
	unsigned long long seed;    /* the random stream; same seed, same platform */
	long long now;              /* epoch seconds reconcile will run at (TRUEUP_NOW) */
	long long batch;            /* units per transaction; 0 = 20000 */
	long long raw_bytes;        /* length of every Stripe row's raw_json; < 11: "{}" */
};

struct gen_expect {
	char rule[4];               /* "E1" ... "M1", "G1" */
	char *subject;              /* "<type>:<id>", owned */
	const char *cause;          /* static: the drift kind or "admin_grant" */
};

struct gen_result {
	struct gen_expect *v;       /* the expected open findings, sorted by rule, subject */
	size_t n, cap;
	long long rows;             /* rows written, all tables */
	long long tenants;          /* tenant rows written */
	long long drifted;          /* units with a drift */
	long long per_kind[GEN_NKINDS];
};

/* The name of drift kind k ("E1_entitlement_revoked", ...), or NULL past the end. */
const char *gen_kind_name(int k);

/*
 * Generate into db (an open connection to an initialised, empty trueup
 * database) and fill *r (zeroed first; free it with gen_result_free()).
 * Commits every o->batch units; sets synchronous=OFF and foreign_keys=OFF
 * on the connection while it writes (a throw-away database; the rows are
 * consistent, which the property test checks with foreign_key_check) and
 * restores foreign_keys.  Returns 0, or -1 with a one-line message in err
 * (the database is then incomplete: throw it away).
 */
int gen_platform(sqlite3 *db, const struct gen_opts *o, struct gen_result *r,
		 char *err, size_t errsz);

/* Write r's expected list as "rule<TAB>subject<TAB>cause" lines; 0 or -1 (errno). */
int gen_write_expected(const struct gen_result *r, const char *path);

void gen_result_free(struct gen_result *r);

#endif
