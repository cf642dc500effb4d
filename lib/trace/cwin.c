/* --callers records made whole again (see cwin.h). */
#include "cwin.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "vigil/act.h"
#include "vigil/event.h"
#include "vigil/ring.h"

/* Windows live as long as the trace: at most one per (slot, ring), and
 * no more than this many bytes of them (past it, records of histories
 * without one come out partial). */
#define WINDOW_BYTES_MAX (256u << 20)

/* A branch's JSON, `["0x..","0x.."]`, made when it arrives: the hex of
 * the addresses was a third of the consumer's time when every event's N
 * branches were formatted again (most of them the previous event's). */
struct btext {
    uint8_t len;
    char s[BRANCH_JSON_MAX];
};

/* A chain's JSON array, `["0x..",...]`. */
#define CHAIN_TEXT_MAX (VACT_CALLERS_CHAIN_MAX * (QHEX_MAX + 1) + 2)

struct cwin {
    uint64_t task;
    int32_t tid;
    uint32_t total;  /* the history's branch count at the last record */
    uint32_t head;   /* next entry to write, mod N */
    uint32_t count;  /* entries held, <= N */
    uint16_t nchain; /* > VACT_CALLERS_CHAIN_MAX: the chain is not held */
    bool trunc;
    /* Branches before the oldest held were lost (a delta that did not
     * continue the window): until N have come since, or a whole record,
     * the events are partial. */
    bool gap;
    uint16_t chain_len; /* of chain_text */
    uint64_t chain[VACT_CALLERS_CHAIN_MAX];
    char chain_text[CHAIN_TEXT_MAX];
    struct vigil_branch br[]; /* N, then N struct btext */
};

struct cwins {
    unsigned n;
    size_t bytes;
    struct cwin **win; /* VRAW_CALLERS_SLOTS * VRING_MAX_VCPUS */
};

struct cwins *cwins_new(unsigned nbranch)
{
    struct cwins *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->n = nbranch == 0 || nbranch > VACT_CALLERS_BRANCHES_MAX ? 32 : nbranch;
    w->win =
        calloc((size_t)VRAW_CALLERS_SLOTS * VRING_MAX_VCPUS, sizeof *w->win);
    if (w->win == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void cwins_free(struct cwins *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < (size_t)VRAW_CALLERS_SLOTS * VRING_MAX_VCPUS; i++)
        free(w->win[i]);
    free(w->win);
    free(w);
}

/* The window of @r's slot in @r's ring, made when there is none (NULL when
 * there is no room for one). */
static struct cwin *window(struct cwins *w, const struct vraw_callers *r)
{
    if (r->slot >= VRAW_CALLERS_SLOTS || r->h.vcpu >= VRING_MAX_VCPUS)
        return NULL;
    struct cwin **p = &w->win[(size_t)r->slot * VRING_MAX_VCPUS + r->h.vcpu];
    size_t size = sizeof **p +
                  (sizeof(struct vigil_branch) + sizeof(struct btext)) * w->n;
    if (*p == NULL && w->bytes + size <= WINDOW_BYTES_MAX) {
        *p = calloc(1, size);
        if (*p != NULL) {
            (*p)->nchain = VACT_CALLERS_CHAIN_MAX + 1;
            w->bytes += size;
        }
    }
    return *p;
}

static struct btext *texts(const struct cwins *w, struct cwin *c)
{
    return (struct btext *)(c->br + w->n);
}

static void push(struct cwins *w, struct cwin *c, const struct vigil_branch *b,
                 unsigned n)
{
    if (n > w->n) { /* only the last N are kept */
        b += n - w->n;
        n = w->n;
    }
    struct btext *t = texts(w, c);
    for (unsigned i = 0; i < n; i++) {
        c->br[c->head] = b[i];
        t[c->head].len = (uint8_t)branch_json_at(t[c->head].s, &b[i]);
        c->head = c->head + 1 == w->n ? 0 : c->head + 1;
    }
    c->count = c->count + n < w->n ? c->count + n : w->n;
}

static void set_chain(struct cwin *c, const uint64_t *chain, unsigned n,
                      bool trunc)
{
    c->trunc = trunc;
    if (n > VACT_CALLERS_CHAIN_MAX) {
        c->nchain = VACT_CALLERS_CHAIN_MAX + 1; /* not held */
        return;
    }
    c->nchain = (uint16_t)n;
    memcpy(c->chain, chain, 8u * n);
    size_t k = 0;
    c->chain_text[k++] = '[';
    for (unsigned i = 0; i < n; i++) {
        if (i)
            c->chain_text[k++] = ',';
        k += qhex_at(c->chain_text + k, chain[i]);
    }
    c->chain_text[k++] = ']';
    c->chain_len = (uint16_t)k;
}

/* The window's branches, oldest first, as the JSON array at @d. */
static size_t branches_text(const struct cwins *w, struct cwin *c, char *d)
{
    const struct btext *t = texts(w, c);
    /* From head to the end once full, then from the start to head: no
     * division per entry (N is not a constant). */
    unsigned older = c->count == w->n ? w->n - c->head : 0;
    size_t k = 0;
    d[k++] = '[';
    for (unsigned i = 0; i < c->count; i++) {
        const struct btext *e = i < older ? &t[c->head + i] : &t[i - older];
        if (i)
            d[k++] = ',';
        memcpy(d + k, e->s, sizeof e->s); /* the whole slot: d has room */
        k += e->len;
    }
    d[k++] = ']';
    return k;
}

uint8_t *cwins_apply(struct cwins *w, const struct vraw_callers *r,
                     size_t *size)
{
    const uint64_t *chain = (const uint64_t *)(r + 1);
    const struct vigil_branch *br =
        (const struct vigil_branch *)(chain + r->nchain);
    struct cwin *c = window(w, r);
    /* Continues what the window holds: the same thread, and the branches
     * the record does not carry are the window's (their count says so). */
    bool same = c != NULL && c->task == r->task && c->tid == r->tid;
    bool cont_br = same && c->total + r->nbranch == r->total;
    bool cont_chain = same && c->nchain <= VACT_CALLERS_CHAIN_MAX;
    bool delta = r->flags & VRAW_CALLERS_DELTA;
    bool same_chain = r->flags & VRAW_CALLERS_SAME_CHAIN;
    uint16_t flags = r->flags & VRAW_CALLERS_TRUNC;

    if (c != NULL) { /* the window after this record */
        if (!delta || !cont_br) {
            c->head = c->count = 0;
            c->gap = delta;
        }
        push(w, c, br, r->nbranch);
        if (c->count == w->n)
            c->gap = false;
        if (!same_chain)
            set_chain(c, chain, r->nchain, r->flags & VRAW_CALLERS_TRUNC);
        else if (!cont_chain)
            c->nchain = VACT_CALLERS_CHAIN_MAX + 1;
        c->task = r->task;
        c->tid = r->tid;
        c->total = r->total;
    }

    const uint64_t *ochain = chain;
    unsigned nchain = r->nchain;
    if (same_chain) {
        if (cont_chain) {
            ochain = c->chain;
            nchain = c->nchain;
            flags = c->trunc ? VRAW_CALLERS_TRUNC : 0;
        } else {
            nchain = 0;
            flags |= VRAW_CALLERS_TRUNC | CWIN_PARTIAL;
        }
    }
    /* The branches: the window's when the record continues it, else the
     * record's own. */
    bool from_window = delta && cont_br;
    unsigned nbranch = from_window ? c->count : r->nbranch;
    if (delta && (!cont_br || c->gap))
        flags |= CWIN_PARTIAL;
    /* With a window whose chain and branches are the event's, their JSON
     * goes along. */
    bool text = c != NULL && c->nchain <= VACT_CALLERS_CHAIN_MAX &&
                !(flags & CWIN_PARTIAL) && r->nbranch <= w->n;
    size_t bin =
        sizeof *r + 8u * nchain + sizeof(struct vigil_branch) * nbranch;
    *size = bin;
    if (text) {
        flags |= CWIN_TEXT;
        *size += sizeof(struct cwin_text) + c->chain_len + 2 +
                 (size_t)c->count * (sizeof(struct btext) + 1);
    }
    struct vraw_callers *out = malloc(*size);
    if (out == NULL)
        return NULL;
    *out = *r;
    out->flags = flags;
    out->nchain = (uint16_t)nchain;
    out->nbranch = (uint16_t)nbranch;
    uint64_t *oc = (uint64_t *)(out + 1);
    memcpy(oc, ochain, 8u * nchain);
    struct vigil_branch *ob = (struct vigil_branch *)(oc + nchain);
    if (!from_window) {
        memcpy(ob, br, sizeof *ob * nbranch);
    } else { /* oldest first: from head on once full, then before head */
        unsigned older = c->count == w->n ? w->n - c->head : 0;
        memcpy(ob, c->br + c->head, sizeof *ob * older);
        memcpy(ob + older, c->br, sizeof *ob * (c->count - older));
    }
    if (text) {
        struct cwin_text *t = (struct cwin_text *)((uint8_t *)out + bin);
        char *d = (char *)(t + 1);
        memcpy(d, c->chain_text, c->chain_len);
        t->chain_len = c->chain_len;
        t->branches_len = (uint32_t)branches_text(w, c, d + c->chain_len);
    }
    return (uint8_t *)out;
}

bool cwin_text(const uint8_t *rec, struct cwin_json *out)
{
    const struct vraw_callers *r = (const void *)rec;
    if (!(r->flags & CWIN_TEXT))
        return false;
    const struct cwin_text *t =
        (const void *)(rec + sizeof *r + 8u * r->nchain +
                       sizeof(struct vigil_branch) * r->nbranch);
    out->chain = (const char *)(t + 1);
    out->chain_len = t->chain_len;
    out->branches = out->chain + t->chain_len;
    out->branches_len = t->branches_len;
    return true;
}
