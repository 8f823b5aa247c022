/*
 * migrate_internal.h - the pure parts of the migrations runner, exposed to its
 * unit test only: file-name rules, ordering and the content checksum. Never
 * installed, never included by a context.
 */
#ifndef COMMON_MIGRATE_INTERNAL_H
#define COMMON_MIGRATE_INTERNAL_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define MIGRATE_NAME_MAX     128 /* longest file name, with ".sql" and the NUL */
#define MIGRATE_CHECKSUM_LEN 16  /* hex digits of the 64-bit checksum */

/* One migration: a file on disk, or a row of schema_migrations. */
struct migrate_file {
    int version;                             /* NNNN */
    char name[MIGRATE_NAME_MAX];             /* "0002_add_index.sql" */
    char checksum[MIGRATE_CHECKSUM_LEN + 1]; /* filled for applied rows only */
};

/*
 * Classifies a directory entry: returns 1 for a migration file name (version
 * in *version), 0 for a file that is not SQL (ignored), or ERR_INVALID for a
 * .sql file (any case) whose name breaks the NNNN_name.sql rule.
 */
int migrate_parse_name(const char *fname, int *version, struct err *err);

/* Sorts by version; ERR_INVALID naming both files when two share a version. */
int migrate_sort(struct migrate_file *files, size_t n, struct err *err);

/* FNV-1a 64 of text as 16 lowercase hex digits into out (MIGRATE_CHECKSUM_LEN + 1 bytes). */
void migrate_checksum(const char *text, size_t len, char *out);

#endif
