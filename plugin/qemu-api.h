/* The part of QEMU's TCG plugin C API that vigil uses: plugin API version 7
 * (QEMU 11.1).
 *
 * Debian does not package qemu-plugin.h, so the declarations are written here
 * from the documented, versioned ABI. Only what vigil calls is declared;
 * every type QEMU owns stays opaque. QEMU refuses a plugin whose
 * `qemu_plugin_version` is outside its range, and the install hook checks
 * `info->version` again so that the message is vigil's own.
 *
 * What API 7 gives over the API 4 of QEMU 10.0, and why vigil needs it:
 * register and memory writes (API 5), set_pc and bool register access
 * (API 6) — together the means to change what a guest call does — and a
 * userdata pointer on every callback (API 7). vigil builds for API 7 only.
 */
#ifndef VIGIL_QEMU_API_H
#define VIGIL_QEMU_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define VIGIL_QEMU_PLUGIN_API 7

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_plugin_register;

/* What an execution callback may do to the vCPU. QEMU refuses register
 * writes from a callback registered below RW_REGS, and set_pc below
 * RW_REGS_PC (11.1 aborts on a value above RW_REGS_PC). */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
    QEMU_PLUGIN_CB_RW_REGS_PC,
};

typedef struct {
    struct qemu_plugin_register *handle;
    const char *name;
    const char *feature;
    bool is_readonly;
} qemu_plugin_reg_descriptor;

enum qemu_plugin_hwaddr_operation_result {
    QEMU_PLUGIN_HWADDR_OPERATION_OK,
    QEMU_PLUGIN_HWADDR_OPERATION_ERROR,
    QEMU_PLUGIN_HWADDR_OPERATION_DEVICE_ERROR,
    QEMU_PLUGIN_HWADDR_OPERATION_ACCESS_DENIED,
    QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS,
    QEMU_PLUGIN_HWADDR_OPERATION_INVALID_ADDRESS_SPACE,
};

typedef void (*qemu_plugin_udata_cb_t)(void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
                                            void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(struct qemu_plugin_tb *tb,
                                               void *userdata);

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

/* What the plugin itself exports; QEMU looks these up with dlsym. */
extern QEMU_PLUGIN_EXPORT int qemu_plugin_version;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info, int argc,
                                           char **argv);

void qemu_plugin_outs(const char *string);
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id,
                                       qemu_plugin_vcpu_udata_cb_t cb,
                                       void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb,
                                           void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags,
                                            void *userdata);
/* Per-vCPU values QEMU's generated code can test without a call
 * (API 2+): a scoreboard of one uint64_t per vCPU, and the conditional
 * callback that runs only when `entry cond imm` holds for the vCPU
 * executing the block. */
struct qemu_plugin_scoreboard;
typedef struct {
    struct qemu_plugin_scoreboard *score;
    size_t offset;
} qemu_plugin_u64;
enum qemu_plugin_cond {
    QEMU_PLUGIN_COND_NEVER,
    QEMU_PLUGIN_COND_ALWAYS,
    QEMU_PLUGIN_COND_EQ,
    QEMU_PLUGIN_COND_NE,
    QEMU_PLUGIN_COND_LT,
    QEMU_PLUGIN_COND_LE,
    QEMU_PLUGIN_COND_GT,
    QEMU_PLUGIN_COND_GE,
};
struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size);
void qemu_plugin_u64_set(qemu_plugin_u64 entry, unsigned int vcpu_index,
                         uint64_t val);
void qemu_plugin_register_vcpu_tb_exec_cond_cb(struct qemu_plugin_tb *tb,
                                               qemu_plugin_vcpu_udata_cb_t cb,
                                               enum qemu_plugin_cb_flags flags,
                                               enum qemu_plugin_cond cond,
                                               qemu_plugin_u64 entry,
                                               uint64_t imm, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    qemu_plugin_udata_cb_t cb, void *userdata);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *
qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_data(const struct qemu_plugin_insn *insn, void *dest,
                             size_t len);

/* Registers of the current vCPU, in target byte order. */
GArray *qemu_plugin_get_registers(void);
bool qemu_plugin_read_register(struct qemu_plugin_register *handle,
                               GByteArray *buf);
bool qemu_plugin_write_register(struct qemu_plugin_register *handle,
                                GByteArray *buf);
/* Resume the current vCPU at `vaddr`; does not return. Writing rip with
 * qemu_plugin_write_register aborts QEMU instead. */
__attribute__((__noreturn__)) void qemu_plugin_set_pc(uint64_t vaddr);

/* Guest memory through the current vCPU's page tables, as a debugger sees
 * it: no fault is raised, copy-on-write is not honoured (see guestmem.c). */
bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len);
bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray *data);
/* The current vCPU's translation of @vaddr, as a debugger's walk finds it
 * (QEMU 10.1+). */
bool qemu_plugin_translate_vaddr(uint64_t vaddr, uint64_t *hwaddr);
/* Guest physical memory. */
enum qemu_plugin_hwaddr_operation_result
qemu_plugin_read_memory_hwaddr(uint64_t addr, GByteArray *data, size_t len);
enum qemu_plugin_hwaddr_operation_result
qemu_plugin_write_memory_hwaddr(uint64_t addr, GByteArray *data);

#endif
