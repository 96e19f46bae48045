#include "eval/provenance.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/sha256.h"

#ifndef XBAR_VERSION
#define XBAR_VERSION "unknown"
#endif
/* Set on this file only by CMakeLists.txt (git describe at configure
 * time), so a new commit does not rebuild the whole tree. */
#ifndef XBAR_GIT_COMMIT
#define XBAR_GIT_COMMIT "unknown"
#endif

const char *xb_version_string(void) { return XBAR_VERSION; }
const char *xb_git_commit(void) { return XBAR_GIT_COMMIT[0] ? XBAR_GIT_COMMIT : "unknown"; }

/* The command line as one string; arguments with spaces or quotes are
 * single-quoted so it can be pasted back into a shell. */
static char *command_line(int argc, char *const *argv) {
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n + 5);
    if (!s) return NULL;
    char *p = s;
    p += sprintf(p, "xbar");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool quote = !*a || strpbrk(a, " \t\n'\"$\\*?;&|<>()") != NULL;
        *p++ = ' ';
        if (quote) *p++ = '\'';
        for (; *a; a++) {
            if (quote && *a == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *a;
            }
        }
        if (quote) *p++ = '\'';
    }
    *p = 0;
    return s;
}

static void utc_now(char buf[32]) {
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else snprintf(buf, 32, "unknown");
}

/* Every arch field (xb_arch_write_json writes one object to a FILE), as
 * cJSON; NULL when it cannot be parsed back. */
static cJSON *arch_json(const xb_arch *a) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    xb_arch_write_json(a, f, 0);
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

cJSON *xb_provenance_json(const xb_provenance *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "xbar_version", xb_version_string());
    cJSON_AddStringToObject(o, "git_commit", xb_git_commit());
    if (p->model) {
        char hex[65];
        xb_ctx ctx = {0};
        cJSON_AddStringToObject(o, "model", p->model);
        cJSON_AddStringToObject(o, "model_sha256",
                                xb_sha256_file(p->model, hex, &ctx) == XB_OK ? hex : "unreadable");
    }
    if (p->data) cJSON_AddStringToObject(o, "data", p->data);
    if (p->arch) {
        cJSON *a = arch_json(p->arch);
        if (a) cJSON_AddItemToObject(o, "arch", a);
    }
    char *cl = command_line(p->argc, p->argv);
    cJSON_AddStringToObject(o, "command_line", cl ? cl : "");
    free(cl);
    if (p->threads > 0) cJSON_AddNumberToObject(o, "threads", p->threads);
    char date[32];
    utc_now(date);
    cJSON_AddStringToObject(o, "date_utc", date);
    return o;
}

void xb_provenance_write_comments(FILE *f, const xb_provenance *p) {
    cJSON *o = xb_provenance_json(p);
    for (cJSON *it = o ? o->child : NULL; it; it = it->next) {
        char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
        const char *s = v ? v : it->valuestring;
        fprintf(f, "# %s: ", it->string);
        /* one line per field: a newline in a value would end the comment */
        for (; s && *s; s++) fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
        fputc('\n', f);
        free(v);
    }
    cJSON_Delete(o);
}
