/* Signal frames (see sigframe.h); 64-bit frames only. */
#include "sigframe.h"

#include "guestmem.h"

#define CHAIN_MAX 8 /* frames followed down from the handler's */

static struct {
    uint32_t ctx; /* 0: no layout */
    uint16_t off[SC_N];
} sc_layout;

void sigframe_setup(const struct vring_config *c)
{
    sc_layout.ctx = c->sigframe_ctx;
    sc_layout.off[SC_IP] = c->sc_ip;
    sc_layout.off[SC_SP] = c->sc_sp;
    sc_layout.off[SC_AX] = c->sc_ax;
    sc_layout.off[SC_CX] = c->sc_cx;
    sc_layout.off[SC_DI] = c->sc_di;
    sc_layout.off[SC_SI] = c->sc_si;
    sc_layout.off[SC_DX] = c->sc_dx;
    sc_layout.off[SC_R11] = c->sc_r11;
    sc_layout.off[SC_R10] = c->sc_r10;
}

bool sigframe_get(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t *val)
{
    return mem(v, ctx + sc_layout.off[r], val, sizeof *val);
}

bool sigframe_set(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t val)
{
    /* The kernel has just written the frame: its pages are present, dirty
     * and the thread's own. */
    return gm_write(v, ctx + sc_layout.off[r], &val, sizeof val, false) ==
           GM_OK;
}

uint64_t sigframe_find(struct vcpu *v, uint64_t sp, uint64_t ip_a,
                       uint64_t ip_b)
{
    if (sc_layout.ctx == 0)
        return 0;
    for (int depth = 0; depth < CHAIN_MAX && sp < USER_TOP; depth++) {
        uint64_t ctx = sp + sc_layout.ctx, ip;
        if (!sigframe_get(v, ctx, SC_IP, &ip))
            return 0;
        if (ip == ip_a || ip == ip_b)
            return ctx;
        if (!sigframe_get(v, ctx, SC_SP, &sp))
            return 0;
    }
    return 0;
}
