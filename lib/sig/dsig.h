/* The publisher signature (dsig) of ClamAV's .cvd containers, version 1:
 * checked against ClamAV's public RSA key, or a key the caller gives.
 *
 * Facts of the scheme (from ClamAV's published sources): the header's
 * seventh field is the signature, a number written in a base-64 alphabet
 * (a-z A-Z 0-9 + /, digit values 0..63) least significant digit first;
 * raised to the public exponent modulo the public modulus it gives the MD5
 * of everything after the 512-byte header, as a big-endian number.  The
 * other header fields (time, version, counts, builder) are not covered. */
#ifndef VIGIL_SIG_DSIG_H
#define VIGIL_SIG_DSIG_H

#include <stddef.h>
#include <stdint.h>

#include "sig/sig-int.h"

/*
 * vs_dsig_verify: whether @dsig (@len characters) signs @md5.
 * @key: NULL for ClamAV's key; else "N E", the modulus and the public
 *       exponent in decimal, separated by white space.
 * The recovered value must equal the digest exactly (ClamAV compares only
 * its low 16 bytes; every signature it has published decodes to the bare
 * digest, so the stricter check refuses nothing ClamAV signed).
 * Return: 0 when it verifies; -EINVAL (with @e filled) when it does not or
 * the key is malformed.
 */
VS_HIDDEN int vs_dsig_verify(const char *dsig, size_t len,
                             const uint8_t md5[16], const char *key,
                             struct vs_err *e);

#endif
