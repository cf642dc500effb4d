/* store_rec (logd-store.h): a record on its way to the PostgreSQL store. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd-store.h"

struct store_rec *store_rec_new(const char *host, const char *session,
                                uint64_t recno, uint64_t received_ns,
                                const char *json, size_t len)
{
    struct store_rec *r = malloc(sizeof *r + len + 1);
    if (r == NULL)
        return NULL;
    r->next = NULL;
    r->recno = recno;
    r->received_ns = received_ns;
    size_t i = 0;
    for (; host[i] && i < sizeof r->host - 1; i++) {
        char c = host[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '-' ||
                  c == '_';
        r->host[i] = ok ? c : '_';
    }
    r->host[i] = 0;
    snprintf(r->session, sizeof r->session, "%s", session);
    r->len = (uint32_t)len;
    memcpy(r->json, json, len);
    r->json[len] = 0;
    return r;
}
