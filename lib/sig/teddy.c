/* A SIMD first stage for the group of 3-byte grams sampled at every
 * position (class 5), used when it holds few grams.
 *
 * Why: the shortest anchors set the stride of a sampling pass.  With 4-byte
 * anchors present, every anchor of the database was sampled as a 3-byte
 * gram every 2 positions, about one cycle per sampled position; at 1,000
 * and 10,000 signatures that pass was most of the scan.  A few dozen short
 * anchors can instead be looked for at every position with byte shuffles,
 * 32 positions per step, and the long anchors keep a longer stride.
 *
 * How: each gram of the group is put in one of 8 buckets (a bit of a byte).
 * For gram byte k (0..2) two 16-entry tables give, for the low and the high
 * nibble of a data byte, the buckets having a gram whose byte k has that
 * nibble.  A position is a candidate when some bucket survives the AND of
 * the six lookups (the data bytes at the position and the two after it).
 * That is a superset of the positions where a gram of the group starts:
 * sift() and candidate() (prefilter.c) then probe the bloom filter and the
 * gram table exactly as for the scalar pass, which stays the fallback
 * (no AVX2) and the reference. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/scan-int.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Tables: for k = 0..2, 32 bytes of low-nibble buckets then 32 of high,
 * each 16-byte table repeated for both 128-bit lanes. */
#define TD_BYTES (6 * 32)

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int vs_teddy_build(struct vs_group *g)
{
    if (g->g != 3 || g->S != 1 || g->nent == 0 || g->nent > VS_TEDDY_MAX)
        return 0;
    uint64_t *gr = malloc(g->nent * sizeof *gr);
    uint8_t *t = aligned_alloc(32, TD_BYTES);
    if (gr == NULL || t == NULL) {
        free(gr);
        free(t);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t k = 0; k < g->nent; k++)
        gr[n++] = g->ents[k].gram;
    qsort(gr, n, sizeof *gr, cmp_u64);
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
        if (u == 0 || gr[k] != gr[u - 1])
            gr[u++] = gr[k];
    /* Neighbours in sorted order share their last byte's high nibble:
     * contiguous runs per bucket keep each bucket's nibble sets small. */
    memset(t, 0, TD_BYTES);
    for (size_t k = 0; k < u; k++) {
        uint8_t bb = (uint8_t)(1u << (k * 8 / u));
        for (unsigned j = 0; j < 3; j++) {
            uint8_t v = (uint8_t)(gr[k] >> (8 * j));
            for (unsigned lane = 0; lane < 32; lane += 16) {
                t[64 * j + lane + (v & 15)] |= bb;
                t[64 * j + 32 + lane + (v >> 4)] |= bb;
            }
        }
    }
    free(gr);
    g->teddy = t;
    return 0;
}

/* The buckets of position @p, one byte at a time: the vector loop's
 * result for one position. */
static inline uint8_t td_one(const uint8_t *t, const uint8_t *p)
{
    uint8_t m = 0xff;
    for (unsigned j = 0; j < 3; j++)
        m &= t[64 * j + (p[j] & 15)] & t[64 * j + 32 + (p[j] >> 4)];
    return m;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static inline __m256i
td_step(const uint8_t *t, unsigned j, __m256i x, __m256i nib)
{
    __m256i lo = _mm256_load_si256((const __m256i *)(const void *)(t + 64 * j));
    __m256i hi =
        _mm256_load_si256((const __m256i *)(const void *)(t + 64 * j + 32));
    __m256i a = _mm256_shuffle_epi8(lo, _mm256_and_si256(x, nib));
    __m256i b =
        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), nib));
    return _mm256_and_si256(a, b);
}

__attribute__((target("avx2,bmi"))) size_t
vs_teddy_scan(const uint8_t *t, const uint8_t *p, uint32_t r, uint32_t end,
              uint32_t *out)
{
    const __m256i nib = _mm256_set1_epi8(0x0f);
    const __m256i zero = _mm256_setzero_si256();
    size_t n = 0;

    /* The loads reach r + 33 < end + 2: no further than the scalar pass's
     * 4-byte loads at end - 1. */
    for (; r + 32 <= end; r += 32, p += 32) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
        __m256i x2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 2));
        __m256i m = _mm256_and_si256(
            td_step(t, 0, x0, nib),
            _mm256_and_si256(td_step(t, 1, x1, nib), td_step(t, 2, x2, nib)));
        uint32_t bits =
            ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, zero));
        while (bits) {
            out[n++] = r + (uint32_t)_tzcnt_u32(bits);
            bits &= bits - 1;
        }
    }
    for (; r < end; r++, p++)
        if (td_one(t, p))
            out[n++] = r;
    return n;
}
#else
size_t vs_teddy_scan(const uint8_t *t, const uint8_t *p, uint32_t r,
                     uint32_t end, uint32_t *out)
{
    size_t n = 0;
    for (; r < end; r++, p++)
        if (td_one(t, p))
            out[n++] = r;
    return n;
}
#endif

/* Tests and fuzzers set it to compile databases without the SIMD stage and
 * compare (like vs_lin_span); nothing else writes it. */
bool vs_teddy_off;

bool vs_have_avx2(void)
{
    if (vs_teddy_off)
        return false;
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
#else
    return false;
#endif
}
