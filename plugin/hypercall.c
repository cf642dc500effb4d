/* vigil's hypercalls (see hypercall.h). */
#include "hypercall.h"

#include <errno.h>
#include <string.h>

#include "control.h"
#include "guestmem.h"
#include "hcall-update.h"
#include "ident.h"
#include "vigil/version.h"

#define USER_CS64  0x33 /* __USER_CS: 64-bit user code */
#define VMCALL_LEN 3

static struct {
    bool enabled;
    uint64_t answered;
} hcalls;

void hcall_setup(bool enabled)
{
    hcalls.enabled = enabled;
}

bool hcall_enabled(void)
{
    return hcalls.enabled;
}

uint64_t hcall_count(void)
{
    return __atomic_load_n(&hcalls.answered, __ATOMIC_RELAXED);
}

static const char identity[] = "vigil " VIGIL_VERSION;

/* identify: the identity, cut to the buffer and NUL-terminated, and its
 * length, as snprintf does. arg: buffer, length. */
static int64_t identify(struct vcpu *v, const uint64_t arg[4], bool faulted_in,
                        uint64_t *fault_start, uint64_t *fault_len)
{
    uint64_t len = arg[1] < sizeof identity ? arg[1] : sizeof identity;
    char out[sizeof identity];
    if (len == 0)
        return (int64_t)strlen(identity);
    memcpy(out, identity, len - 1);
    out[len - 1] = '\0';
    switch (gm_write(v, arg[0], out, (uint32_t)len, faulted_in)) {
    case GM_OK:
        return (int64_t)strlen(identity);
    case GM_FAULT_IN:
        if (faulted_in)
            break;
        *fault_start = arg[0];
        *fault_len = len;
        return 0;
    case GM_EFAULT:
        break;
    }
    return -EFAULT;
}

/* After the fault-in: the same function again, with what is now mapped. */
static int64_t identify_finish(struct vcpu *v, const uint64_t arg[4],
                               bool faulted_in)
{
    uint64_t s, l;
    return faulted_in ? identify(v, arg, true, &s, &l) : -EFAULT;
}

void hcall_exec(struct vcpu *v, uint64_t ip)
{
    if (!hcalls.enabled)
        return;
    uint64_t cs = reg(v, R_CS);
    if ((cs & 3) != 3)
        return; /* the guest kernel's own vmcall: not ours */
    __atomic_fetch_add(&hcalls.answered, 1, __ATOMIC_RELAXED);
    if (cs != USER_CS64)
        control_skip(v, ip, VMCALL_LEN, -ENOSYS); /* 32-bit code */
    uint64_t fn = reg(v, R_RAX);
    uint64_t arg[4] = {reg(v, R_RBX), reg(v, R_RCX), reg(v, R_RDX), 0};
    int64_t result = -ENOSYS;
    if (fn == HCALL_UPDATE)
        hcall_update(v, ip);
    if (fn == HCALL_IDENTIFY) {
        uint64_t start = 0, len = 0;
        result = identify(v, arg, false, &start, &len);
        if (len != 0) {
            struct vraw_task t;
            if (!ident(v, &t) || !control_fault_in(v, &t, ip, VMCALL_LEN, start,
                                                   len, identify_finish, arg))
                result = -EFAULT;
        }
    }
    control_skip(v, ip, VMCALL_LEN, result);
}
