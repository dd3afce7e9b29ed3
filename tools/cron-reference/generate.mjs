// generate.mjs - reference fire times for trueup's cron tests, from croner.
//
// Prints fixtures/cron/reference.tsv on stdout (see fixtures/cron/README.md):
//
//   cd tools/cron-reference && npm ci && node generate.mjs > ../../fixtures/cron/reference.tsv
//
// It is run by hand, once per change of the case list; `make test` only reads
// the checked-in fixture.  Each case is (expression, IANA zone, from instant,
// n); the line holds croner's next n fire times strictly after `from`, as ISO
// 8601 local times with their UTC offset in that zone
// ("2026-03-29T03:00:00+02:00"), tab separated.  When croner finds fewer than
// n, the line ends with "none"; when croner refuses the expression the only
// time column is "error".
//
// croner options, chosen to be as close to Vixie cron / cronie 5-field
// semantics as croner allows:
//   mode: '5-part'              minute hour dom month dow, no seconds/years
//   domAndDow: false            day of month OR day of week (croner default)
//   sloppyRanges: true          accept cronie's "N/step" (N-max/step)
//   fixedTimeRule: 'no-wildcard' lists and ranges count as fixed-time jobs
//                               for DST (cronie: "does not start with *")
// The deliberate differences between croner and cronie/trueup are listed in
// fixtures/cron/README.md and fixtures/cron/differences.tsv.
import { Cron } from 'croner';
import { readFileSync } from 'node:fs';

const cronerVersion = JSON.parse(
	readFileSync(new URL('./node_modules/croner/package.json', import.meta.url), 'utf8')).version;

const options = (timezone) => ({
	mode: '5-part',
	timezone,
	domAndDow: false,
	sloppyRanges: true,
	fixedTimeRule: 'no-wildcard',
	paused: true,
});

const pad = (v, w = 2) => String(v).padStart(w, '0');

// ISO 8601 local time of `date` in `zone`, with the offset.
function formatIn(date, zone) {
	const f = new Intl.DateTimeFormat('en-US', {
		timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
		day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
	});
	const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
	const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
	const utc = Math.floor(date.getTime() / 1000) * 1000;
	let off = Math.round((local - utc) / 60000);
	const sign = off < 0 ? '-' : '+';
	off = Math.abs(off);
	return `${pad(p.year, 4)}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}` +
		`${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}

// ---- the cases: [expression, zone, from, n] ----
const cases = [];
const add = (expr, zone, from, n) => cases.push([expr, zone, from, n]);
const U = 'UTC';
const T0 = '2026-05-05T08:59:59Z';  // a Tuesday

// Every field form, in UTC.
add('* * * * *', U, '2026-01-01T00:00:00Z', 3);
add('* * * * *', U, '2026-01-01T00:00:30Z', 2);
add('0 * * * *', U, T0, 3);
add('5 * * * *', U, T0, 3);
add('59 23 * * *', U, T0, 3);
add('0 0 1 1 *', U, T0, 3);
add('10-15 * * * *', U, T0, 8);
add('10-40/10 * * * *', U, T0, 5);
add('*/7 * * * *', U, '2026-05-05T08:40:00Z', 5);
add('*/15 * * * *', U, T0, 6);
add('*/59 * * * *', U, T0, 4);
add('*/45 * * * *', U, T0, 4);
add('5/20 * * * *', U, T0, 4);
add('50/5 * * * *', U, T0, 3);
add('1,5-7,*/30 * * * *', U, T0, 7);
add('0,30 9-17 * * 1-5', U, '2026-05-08T16:00:00Z', 5);
add('0 */3 * * *', U, T0, 4);
add('0 1-23/11 * * *', U, T0, 4);
add('0 22-23,0-1 * * *', U, T0, 5);
add('0 12/6 * * *', U, T0, 4);
add('*/10 */6 * * *', U, T0, 7);
add('30 */2 * * *', U, T0, 3);
add('0-5 * * * *', U, T0, 7);
add('0 0 1,15 * *', U, T0, 4);
add('0 0 1-7 * *', U, '2026-05-30T00:00:00Z', 8);
add('0 0 */10 * *', U, T0, 5);
add('0 0 10/5 * *', U, T0, 6);
add('0 0 1 */3 *', U, T0, 4);
add('0 0 1 2-11/3 *', U, T0, 4);
add('0 0 1 jan,MAR,Dec *', U, T0, 4);
add('0 0 1 Feb-apr *', U, T0, 4);
add('0 0 1 jun-AUG/2 *', U, T0, 3);
add('0 0 1 JUL *', U, T0, 2);
add('0 12 * * mon-fri', U, '2026-05-08T00:00:00Z', 4);
add('0 12 * * MON-FRI', U, '2026-05-08T00:00:00Z', 4);
add('0 12 * * Sun', U, T0, 2);
add('0 12 * * 7', U, T0, 2);
add('0 12 * * 0', U, T0, 2);
add('0 12 * * 0,7', U, T0, 2);
add('0 12 * * 5-7', U, T0, 4);
add('0 12 * * fri-sun', U, T0, 4);
add('0 12 * * FRI-SUN', U, T0, 4);
add('0 12 * * sat-sun', U, T0, 4);
add('0 12 * * 5-0', U, T0, 4);
add('0 12 * * 6-0', U, T0, 4);
add('0 12 * * */2', U, T0, 5);
add('0 12 * * 1-5/2', U, T0, 4);
add('0 12 * * mon/2', U, T0, 5);
add('0 12 * * thu,Tue', U, T0, 4);
add('0 12 * * 1,3-4,6', U, T0, 5);
add('0 0 * 1-3 mon-fri', U, '2026-03-30T00:00:00Z', 3);
add('15 14 1 * *', U, T0, 3);
add('0 22 * * 1-5', U, T0, 5);
add('23 0-20/2 * * *', U, T0, 4);
add('5 4 * * sun', U, T0, 2);
add('0 0,12 1 */2 *', U, T0, 4);
add('0 4 8-14 * *', U, T0, 8);
add('*/5 * * * *', U, '2026-05-05T23:52:00Z', 4);

// Steps larger than the field's maximum (trueup, like cronie, refuses them).
add('*/60 * * * *', U, T0, 2);
add('0 */24 * * *', U, T0, 2);
add('0 0 */32 * *', U, T0, 2);
add('0 0 1 */13 *', U, T0, 2);
add('0 0 * * */8', U, T0, 2);
add('0 0 * * */7', U, T0, 2);
add('0 0 1 */12 *', U, T0, 2);

// Macros.
add('@yearly', U, T0, 2);
add('@annually', U, T0, 2);
add('@monthly', U, T0, 3);
add('@weekly', U, T0, 3);
add('@daily', U, T0, 3);
add('@midnight', U, T0, 3);
add('@hourly', U, T0, 3);
add('@daily', 'America/New_York', '2026-03-07T12:00:00-05:00', 3);
add('@hourly', 'Europe/Berlin', '2026-10-25T01:30:00+02:00', 4);

// Leap years.
add('0 0 29 2 *', U, '2026-01-01T00:00:00Z', 3);
add('0 0 29 2 *', U, '2096-03-01T00:00:00Z', 1);
add('0 0 29 2 *', U, '1999-01-01T00:00:00Z', 2);
add('0 0 29 2 *', U, '2024-02-29T00:00:00Z', 1);
add('0 12 28,29 2 *', U, '2027-01-01T00:00:00Z', 4);
add('0 0 * 2 *', U, '2028-02-27T00:00:00Z', 3);
add('0 0 * 2 *', U, '2027-02-27T00:00:00Z', 2);
add('0 0 29 2 mon', U, '2028-01-01T00:00:00Z', 6);
add('0 0 28-31 2 *', U, '2028-01-01T00:00:00Z', 3);
add('0 0 29 2 *', 'Europe/London', '2026-01-01T00:00:00Z', 2);

// Day 31 in short months, day 30 and February.
add('0 0 31 * *', U, '2026-01-31T00:00:00Z', 5);
add('0 0 30 * *', U, '2026-01-15T00:00:00Z', 3);
add('0 0 31 1-6 *', U, '2026-01-01T00:00:00Z', 4);
add('0 0 31 */2 *', U, '2026-01-01T00:00:00Z', 4);
add('0 0 29-31 * *', U, '2026-01-30T00:00:00Z', 5);
add('0 0 31 4 mon', U, '2026-01-01T00:00:00Z', 3);
add('0 0 31 4 *', U, '2026-01-01T00:00:00Z', 1);
add('0 0 30 2 *', U, '2026-01-01T00:00:00Z', 1);
add('0 0 31 4,6,9,11 *', U, '2026-01-01T00:00:00Z', 1);
add('0 0 31 12 *', U, '2026-01-01T00:00:00Z', 2);

// Day of month and day of week.
add('0 0 1 * MON', U, '2026-05-31T12:00:00Z', 6);
add('0 0 13 * 5', U, '2026-01-01T00:00:00Z', 5);
add('0 0 1-31/2 * MON', U, '2026-06-01T12:00:00Z', 4);
add('0 0 15 * *', U, '2026-06-01T00:00:00Z', 2);
add('0 0 * * sat,sun', U, '2026-06-01T00:00:00Z', 3);
add('0 0 1,15 * 1-5', U, '2026-06-01T00:00:00Z', 6);
add('0 0 1-7 * 1', U, '2026-06-01T00:00:00Z', 8);
add('0 9 25 12 0', U, '2026-12-01T00:00:00Z', 5);
add('0 0 */2 * MON', U, '2026-05-31T12:00:00Z', 6);
add('0 0 */1 * mon', U, '2026-05-31T12:00:00Z', 3);
add('0 0 1 * */2', U, '2026-05-31T12:00:00Z', 3);
add('0 0 1-31 * 1', U, '2026-05-31T12:00:00Z', 3);
add('0 0 29 2 */7', U, '2026-01-01T00:00:00Z', 2);

// Month and year rollovers.
add('59 23 31 12 *', U, '2026-12-31T23:59:00Z', 1);
add('0 0 1 1 *', U, '2026-12-31T23:59:59Z', 2);
add('15 10 * nov *', U, '2026-11-30T10:15:00Z', 1);
add('0 0 * * *', U, '2026-12-31T12:00:00Z', 2);
add('*/30 * * * *', U, '2026-12-31T23:45:00Z', 2);
add('0 0 1 * *', U, '2026-12-15T00:00:00Z', 2);
add('0 0 28-31 * *', U, '2026-02-27T00:00:00Z', 4);
add('0 0 * * *', U, '2026-02-28T12:00:00Z', 2);
add('30 23 * * *', U, '2026-04-30T23:30:00Z', 2);

// ---- DST ----
// America/New_York 2026: 03-08 02:00 EST -> 03:00 EDT; 11-01 02:00 EDT -> 01:00 EST.
const NY = 'America/New_York';
const NYs = '2026-03-07T12:00:00-05:00', NYf = '2026-10-31T12:00:00-04:00';
for (const e of ['30 2 * * *', '0 2 * * *', '59 2 * * *', '0 3 * * *', '30 1 * * *',
	'15 1 * * *', '0 1 * * *', '0 2 * * *', '30 2 * * *', '0,30 1 * * *', '0 1-2 * * *']) {
	add(e, NY, NYs, 3);
	add(e, NY, NYf, 3);
}
add('30 1 * * *', NY, '2026-11-01T01:45:00-04:00', 1);
add('30 1 * * *', NY, '2026-11-01T01:10:00-05:00', 1);
add('*/15 * * * *', NY, '2026-03-08T01:40:00-05:00', 4);
add('*/15 * * * *', NY, '2026-11-01T00:50:00-04:00', 10);
add('0 * * * *', NY, '2026-03-08T00:30:00-05:00', 4);
add('0 * * * *', NY, '2026-11-01T00:30:00-04:00', 4);
add('*/30 * * * *', NY, '2026-03-08T01:10:00-05:00', 3);
add('*/30 * * * *', NY, '2026-11-01T00:50:00-04:00', 6);
add('* 2 * * *', NY, '2026-03-08T01:58:00-05:00', 3);
add('* 1 * * *', NY, '2026-11-01T01:58:00-04:00', 3);
add('30 * * * *', NY, '2026-11-01T00:00:00-04:00', 4);
add('0 */2 * * *', NY, '2026-03-08T00:00:00-05:00', 3);
add('0 0-23/2 * * *', NY, '2026-03-08T00:00:00-05:00', 3);
add('30 2 8 3 *', NY, '2026-01-01T00:00:00-05:00', 2);
add('30 2 * 3 0', NY, '2026-03-01T00:00:00-05:00', 3);
add('30 2 * * *', NY, '2027-03-13T12:00:00-05:00', 2);
add('30 1 * * *', NY, '2027-11-06T12:00:00-04:00', 2);

// Europe/London 2026: 03-29 01:00 GMT -> 02:00 BST; 10-25 02:00 BST -> 01:00 GMT.
const L = 'Europe/London';
const Ls = '2026-03-28T12:00:00Z', Lf = '2026-10-24T12:00:00+01:00';
for (const e of ['30 1 * * *', '0 1 * * *', '59 1 * * *', '0 2 * * *', '30 0 * * *']) {
	add(e, L, Ls, 3);
	add(e, L, Lf, 3);
}
add('*/15 * * * *', L, '2026-03-29T00:40:00Z', 4);
add('*/15 * * * *', L, '2026-10-25T00:40:00+01:00', 8);
add('0 * * * *', L, '2026-03-29T00:00:00Z', 3);
add('0 * * * *', L, '2026-10-25T00:00:00+01:00', 4);
add('*/30 * * * *', L, '2026-10-25T01:00:00+01:00', 5);
add('15 1 25 10 *', L, '2026-10-01T00:00:00+01:00', 2);
add('30 1 * * *', L, '2027-03-27T12:00:00Z', 2);

// Europe/Berlin 2026: 03-29 02:00 CET -> 03:00 CEST; 10-25 03:00 CEST -> 02:00 CET.
const B = 'Europe/Berlin';
const Bs = '2026-03-28T00:00:00+01:00', Bf = '2026-10-24T00:00:00+02:00';
for (const e of ['30 2 * * *', '0 2 * * *', '0 3 * * *']) {
	add(e, B, Bs, 3);
	add(e, B, Bf, 3);
}
add('*/15 * * * *', B, '2026-03-29T01:30:00+01:00', 3);
add('0 * * * *', B, '2026-03-29T00:30:00+01:00', 3);
add('*/30 * * * *', B, '2026-10-25T01:45:00+02:00', 5);
add('0 * * * *', B, '2026-10-25T00:30:00+02:00', 4);
add('15 2 25-31 3 */7', B, '2026-01-01T00:00:00Z', 2);

// Australia/Lord_Howe: +10:30 standard, +11:00 summer; 30-minute shifts.
// 2026-04-05 02:00 +11 -> 01:30 +10:30; 2026-10-04 02:00 +10:30 -> 02:30 +11.
const LH = 'Australia/Lord_Howe';
const LHf = '2026-04-04T12:00:00+11:00', LHs = '2026-10-03T12:00:00+10:30';
for (const e of ['15 2 * * *', '0 2 * * *', '30 2 * * *', '45 1 * * *', '30 1 * * *',
	'15 1 * * *', '59 1 * * *']) {
	add(e, LH, LHs, 3);
	add(e, LH, LHf, 3);
}
add('*/15 * * * *', LH, '2026-10-04T01:40:00+10:30', 4);
add('*/15 * * * *', LH, '2026-04-05T01:20:00+11:00', 6);
add('0 * * * *', LH, '2026-10-04T00:30:00+10:30', 3);
add('0 * * * *', LH, '2026-04-05T00:30:00+11:00', 3);
add('*/30 * * * *', LH, '2026-10-04T01:10:00+10:30', 3);
add('*/30 * * * *', LH, '2026-04-05T01:10:00+11:00', 5);
add('* 2 * * *', LH, '2026-10-04T01:58:00+10:30', 3);
add('0,30 * * * *', LH, '2026-04-05T00:50:00+11:00', 5);
add('15 2 * * *', LH, '2027-10-02T12:00:00+10:30', 2);

// Pacific/Apia: 2011-12-29 24:00 -10:00 became 2011-12-31 00:00 +14:00.
const A = 'Pacific/Apia';
add('0 12 * * *', A, '2011-12-28T00:00:00-10:00', 4);
add('0 0 * * *', A, '2011-12-28T00:00:00-10:00', 4);
add('30 23 * * *', A, '2011-12-28T00:00:00-10:00', 3);
add('0 12 30 12 *', A, '2011-12-01T00:00:00Z', 2);
add('0 12 29-31 12 *', A, '2011-12-01T00:00:00Z', 3);
add('0 * * * *', A, '2011-12-29T22:30:00-10:00', 3);
add('*/30 * * * *', A, '2011-12-29T23:10:00-10:00', 3);
add('0 9 * * fri', A, '2011-12-25T00:00:00-10:00', 2);
add('0 0 * * *', A, '2012-03-30T00:00:00+14:00', 3);

// Other zones.
add('30 2 * * *', 'Australia/Sydney', '2026-10-03T12:00:00+10:00', 2);
add('0 9 * * *', 'Asia/Kolkata', '2026-07-01T00:00:00Z', 2);
add('0 9 * * *', 'Asia/Tokyo', '2026-06-30T23:00:00Z', 2);

// ---- output ----
const out = [];
out.push(`# reference.tsv - next fire times from croner ${cronerVersion} (npm), generated by`);
out.push('# tools/cron-reference/generate.mjs; see fixtures/cron/README.md.  Do not edit by hand.');
out.push('# expr\tzone\tfrom\tn\tfire times... ("none" = no more; "error" = croner refused it)');
for (const [expr, zone, from, n] of cases) {
	let times;
	try {
		const job = new Cron(expr, options(zone));
		times = job.nextRuns(n, new Date(from)).map((d) => formatIn(d, zone));
		if (times.length < n)
			times.push('none');
	} catch (e) {
		times = ['error'];
	}
	out.push([expr, zone, from, n, ...times].join('\t'));
}
process.stdout.write(out.join('\n') + '\n');
