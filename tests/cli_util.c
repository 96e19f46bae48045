#include "tests/cli_util.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test_tmp.h"

char xb_cli_out[1 << 17], xb_cli_err[1 << 16];

const char *xb_cli_path(void) {
    static char p[PATH_MAX + 8];
    const char *b = getenv("XBAR_BUILD_DIR");
    if (b && b[0]) {
        snprintf(p, sizeof p, "%s/xbar", b);
        return p;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(n > 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(p, sizeof p, "%s/xbar", self);
    return p;
}

void xb_slurp(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = '\0';
    if (f) fclose(f);
}

void xb_slurp_csv(const char *path, char *buf, size_t n) {
    xb_slurp(path, buf, n);
    char *body = buf;
    while (*body == '#') {
        char *nl = strchr(body, '\n');
        body = nl ? nl + 1 : body + strlen(body);
    }
    memmove(buf, body, strlen(body) + 1);
}

int xb_cli_run(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 '%s' %s >'%s' 2>'%s'", xb_cli_path(), args,
             xb_tmp("stdout"), xb_tmp("stderr"));
    int st = system(cmd);
    xb_slurp(xb_tmp("stdout"), xb_cli_out, sizeof xb_cli_out);
    xb_slurp(xb_tmp("stderr"), xb_cli_err, sizeof xb_cli_err);
    cr_assert(WIFEXITED(st), "%s did not exit", cmd);
    return WEXITSTATUS(st);
}

cJSON *xb_cli_json(const char *path) {
    static char buf[1 << 20];
    xb_slurp(path, buf, sizeof buf);
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j, "%s is not JSON: %.200s", path, buf);
    return j;
}

double xb_cli_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(v), "missing number field '%s'", key);
    return v->valuedouble;
}
