/* The sampling pass of the 3- and 4-byte gram classes with AVX-512.
 *
 * Why: the scalar pass (prefilter.c) costs about three cycles per sampled
 * position whatever the size of the bloom filter (perf at 10,000
 * signatures: the same time with a 2 MiB and a 4 KiB filter): it is bound
 * by the work per position (load, multiply, shift, load, bit test, store),
 * not by the filter's cache misses.  With 3-byte grams every 2 positions
 * it was over half of the scan at 10,000 signatures.
 *
 * How: one 64-byte load; a byte permutation (VBMI) puts the gram of each
 * of 16 sampled positions (12 at stride 5) in a 32-bit lane; one 32-bit
 * multiply and a shift give the first bloom probe of each (VS_H1S, the
 * same as the scalar pass), a gather loads the filter words, a variable
 * shift tests the bits, and the positions whose bit is set are compressed
 * into the output.  Same positions, same order, as the scalar pass: the
 * unit test test-sig-pass512 compares the two, and scans with and without
 * it (vs_pass512_off). */
#include <stdint.h>

#include "sig/sig-int.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

bool vs_pass512_off;

/* One position the scalar way: the loop's tail and the reference. */
static inline bool probe_one(const uint64_t *bloom, unsigned g, unsigned mbits,
                             uint64_t mul, const uint8_t *p)
{
    uint64_t x = vs_load32(p);
    if (g == 3)
        x &= 0xffffff;
    uint64_t h = VS_H1S(x, mul, mbits);
    return (bloom[h >> 6] >> (h & 63)) & 1;
}

#if defined(__x86_64__)
#define T512 __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi2")))

/* Lanes per 64-byte load: a gram at S * i must end inside it. */
#define LANES(G, S) ((64 - (G)) / (S) + 1 < 16 ? (64 - (G)) / (S) + 1 : 16)

T512 static inline size_t pass(const unsigned G, const unsigned S,
                               const uint64_t *bloom, unsigned mbits,
                               uint64_t mul, const uint8_t *p, uint32_t r,
                               uint32_t end, uint32_t *out)
{
    const unsigned L = LANES(G, S);
    uint8_t idx[64];
    int32_t lane[16];
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned k = 0; k < 4; k++)
            idx[4 * i + k] = (uint8_t)(i < L && k < G ? S * i + k : 0);
        lane[i] = (int32_t)(S * i);
    }
    const __m512i perm = _mm512_loadu_si512(idx);
    const __m512i lanes = _mm512_loadu_si512(lane);
    const __m512i gmask = _mm512_set1_epi32(G == 3 ? 0xffffff : -1);
    const __m512i m32 = _mm512_set1_epi32((int32_t)(uint32_t)mul);
    const __m512i sh = _mm512_set1_epi32((int32_t)(32 - mbits));
    const __m512i m31 = _mm512_set1_epi32(31), one = _mm512_set1_epi32(1);
    const __mmask16 live = (__mmask16)((1u << L) - 1);
    size_t n = 0;

    /* The load reaches r + 63 < end: inside the block, as the scalar
     * pass's 4-byte loads at end - 1 reach end + 2. */
    for (; r + 64 <= end; r += L * S, p += L * S) {
        __m512i d = _mm512_loadu_si512((const void *)p);
        __m512i x = _mm512_and_si512(_mm512_permutexvar_epi8(perm, d), gmask);
        __m512i h = _mm512_srlv_epi32(_mm512_mullo_epi32(x, m32), sh);
        /* The filter as 32-bit words: bit h is bit h & 31 of word h >> 5
         * (little-endian, the same bit as in the 64-bit words). */
        __m512i wd = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live,
                                                 _mm512_srli_epi32(h, 5),
                                                 (const void *)bloom, 4);
        __m512i b = _mm512_srlv_epi32(wd, _mm512_and_si512(h, m31));
        __mmask16 hit = _mm512_mask_test_epi32_mask(live, b, one);
        _mm512_mask_compressstoreu_epi32(
            out + n, hit, _mm512_add_epi32(lanes, _mm512_set1_epi32((int)r)));
        n += (size_t)__builtin_popcount(hit);
    }
    for (; r < end; r += S, p += S) {
        out[n] = r;
        n += probe_one(bloom, G, mbits, mul, p);
    }
    return n;
}

T512 size_t vs_pass512(unsigned cls, const uint64_t *bloom, unsigned mbits,
                       uint64_t mul, const uint8_t *p, uint32_t r, uint32_t end,
                       uint32_t *out)
{
    /* The classes of VS_CLASSES with 3- and 4-byte grams, each with its
     * constants so the loop is specialised. */
    switch (cls) {
    case 2:
        return pass(4, 5, bloom, mbits, mul, p, r, end, out);
    case 3:
        return pass(4, 3, bloom, mbits, mul, p, r, end, out);
    case 4:
        return pass(3, 2, bloom, mbits, mul, p, r, end, out);
    default:
        return pass(3, 1, bloom, mbits, mul, p, r, end, out);
    }
}

bool vs_have_avx512(void)
{
    if (vs_pass512_off)
        return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("bmi2");
}
#else
size_t vs_pass512(unsigned cls, const uint64_t *bloom, unsigned mbits,
                  uint64_t mul, const uint8_t *p, uint32_t r, uint32_t end,
                  uint32_t *out)
{
    static const uint8_t gs[][2] = {[2] = {4, 5}, [3] = {4, 3}, [4] = {3, 2}};
    unsigned G = cls >= 2 && cls <= 4 ? gs[cls][0] : 3;
    unsigned S = cls >= 2 && cls <= 4 ? gs[cls][1] : 1;
    size_t n = 0;
    for (; r < end; r += S, p += S) {
        out[n] = r;
        n += probe_one(bloom, G, mbits, mul, p);
    }
    return n;
}

bool vs_have_avx512(void)
{
    return false;
}
#endif
