/*
 * sql_embed.h - SQL files compiled into the binary by tools/embed.c.
 * src/sql/NNN_name.sql are the schema migrations, applied in order.
 */
#ifndef TRUEUP_SQL_EMBED_H
#define TRUEUP_SQL_EMBED_H

struct embedded_sql {
	const char *name;   /* base file name, e.g. "001_platform.sql" */
	const char *text;   /* the file's contents */
};

extern const struct embedded_sql embedded_sql[];
extern const int embedded_sql_count;

#endif
