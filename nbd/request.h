/* The kinds of request the filter scans. */
#ifndef VIGIL_NBD_REQUEST_H
#define VIGIL_NBD_REQUEST_H

enum nbd_op { NBD_OP_WRITE = 0, NBD_OP_ZERO, NBD_OP_TRIM };

/* "write", "zero", "trim": the request key of events. */
static inline const char *nbd_op_name(enum nbd_op op)
{
    static const char *const names[] = {"write", "zero", "trim"};
    return (unsigned)op < 3 ? names[op] : "?";
}

#endif
