/*
 * trace.h - the xentrace record layout, Xen's event ids and vmxlab's own.
 *
 * Implemented by replay/ (reader and writer).  Used by hv/ (which emits the
 * records Xen 4.17 emits for each exit), replay, analysis and the CLI.
 * Facts: Xen 4.17 xen/include/public/trace.h and tools/xentrace; see
 * docs/traces.md.
 *
 * A file is a sequence of windows: a CPU_CHANGE record (cpu, window size)
 * followed by that many bytes of records from one physical CPU.  There is no
 * file header.  Words are little-endian u32.
 *
 * Record header (struct t_rec):
 *
 *    31   30  28 27                               0
 *   +----+------+----------------------------------+
 *   |TSC |  n   |             event id             |
 *   +----+------+----------------------------------+
 *   then u32 tsc_lo, tsc_hi if TSC is set, then n (0..7) u32 payload words.
 *
 * Event id: 27:16 main class (one bit set), 15:12 sub class, 11:0 minor.
 */
#ifndef VMXLAB_TRACE_H
#define VMXLAB_TRACE_H

#include <stdint.h>

#define TRC_HD_EVENT(h)   ((h) & 0x0fffffffu)
#define TRC_HD_EXTRA(h)   (((h) >> 28) & 7u)
#define TRC_HD_CYCLES     0x80000000u
#define TRC_REC_MAX_EXTRA 7
#define TRC_REC_MAX_BYTES 40
#define TRC_REC_SIZE(h)   (4u + (((h) & TRC_HD_CYCLES) ? 8u : 0u) + 4u * TRC_HD_EXTRA(h))

/* Classes. */
#define TRC_GEN          0x0001f000u
#define TRC_SCHED        0x0002f000u
#define TRC_DOM0OP       0x0004f000u
#define TRC_HVM          0x0008f000u
#define TRC_MEM          0x0010f000u
#define TRC_PV           0x0020f000u
#define TRC_SHADOW       0x0040f000u
#define TRC_HW           0x0080f000u
#define TRC_GUEST        0x0800f000u
#define TRC_HVM_ENTRYEXIT 0x00081000u
#define TRC_HVM_HANDLER  0x00082000u
#define TRC_HVM_EMUL     0x00084000u
#define TRC_64_FLAG      0x100u
#define TRC_HVM_NESTEDFLAG 0x400u
#define TRC_HVM_IOWRITE_FLAG 0x200u

/* GEN (xentrace.md 1.3). */
#define TRC_LOST_RECORDS      0x0001f001u /* lost, dom|vcpu<<16, first_tsc lo, hi */
#define TRC_TRACE_WRAP_BUFFER 0x0001f002u /* padding to the ring's end */
#define TRC_TRACE_CPU_CHANGE  0x0001f003u /* cpu, window_size; never a TSC */

/* SCHED (1.4). */
#define TRC_SCHED_RUNSTATE_CHANGE  0x00021001u /* | old<<8 | new<<4; (dom<<16)|vcpu */
#define TRC_SCHED_CONTINUE_RUNNING 0x00021002u
#define TRC_SCHED_DOM_ADD    0x00028001u
#define TRC_SCHED_DOM_REM    0x00028002u
#define TRC_SCHED_SLEEP      0x00028003u
#define TRC_SCHED_WAKE       0x00028004u
#define TRC_SCHED_YIELD      0x00028005u
#define TRC_SCHED_BLOCK      0x00028006u
#define TRC_SCHED_SWITCH     0x0002800au
#define TRC_SCHED_SWITCH_INFPREV 0x0002800eu
#define TRC_SCHED_SWITCH_INFNEXT 0x0002800fu
#define TRC_SCHED_SWITCH_INFCONT 0x00028011u
enum trc_runstate { RUNSTATE_RUNNING = 0, RUNSTATE_RUNNABLE = 1, RUNSTATE_BLOCKED = 2, RUNSTATE_OFFLINE = 3 };
#define TRC_RUNSTATE(old, new) (TRC_SCHED_RUNSTATE_CHANGE | ((uint32_t)(old) << 8) | ((uint32_t)(new) << 4))
#define TRC_DOMID_IDLE 0x7fffu

/* HVM entry/exit (1.5). */
#define TRC_HVM_VMENTRY   0x00081001u /* TSC only */
#define TRC_HVM_VMEXIT    0x00081002u /* exit_reason, eip */
#define TRC_HVM_VMEXIT64  0x00081102u /* exit_reason, rip lo, rip hi */

/* HVM handler records (no TSC; they inherit the VMEXIT's). */
#define TRC_HVM_PF_XEN        0x00082001u
#define TRC_HVM_PF_XEN64      0x00082101u
#define TRC_HVM_PF_INJECT     0x00082002u
#define TRC_HVM_PF_INJECT64   0x00082102u
#define TRC_HVM_INJ_EXC       0x00082003u /* vector, error code */
#define TRC_HVM_INJ_VIRQ      0x00082004u /* vector, fake (0) */
#define TRC_HVM_REINJ_VIRQ    0x00082005u
#define TRC_HVM_IO_READ       0x00082006u /* legacy, not emitted by 4.x */
#define TRC_HVM_IO_WRITE      0x00082007u
#define TRC_HVM_CR_READ       0x00082008u
#define TRC_HVM_CR_READ64     0x00082108u /* cr, val lo, val hi */
#define TRC_HVM_CR_WRITE      0x00082009u
#define TRC_HVM_CR_WRITE64    0x00082109u
#define TRC_HVM_DR_READ       0x0008200au
#define TRC_HVM_DR_WRITE      0x0008200bu
#define TRC_HVM_MSR_READ      0x0008200cu /* msr, val lo, val hi */
#define TRC_HVM_MSR_WRITE     0x0008200du
#define TRC_HVM_CPUID         0x0008200eu /* leaf, subleaf, eax, ebx, ecx, edx */
#define TRC_HVM_INTR          0x0008200fu /* host vector */
#define TRC_HVM_NMI           0x00082010u
#define TRC_HVM_SMI           0x00082011u
#define TRC_HVM_VMMCALL       0x00082012u /* eax */
#define TRC_HVM_HLT           0x00082013u /* intpending */
#define TRC_HVM_INVLPG        0x00082014u
#define TRC_HVM_INVLPG64      0x00082114u /* is_invlpga, va lo, va hi */
#define TRC_HVM_MCE           0x00082015u
#define TRC_HVM_IOPORT_READ   0x00082016u /* port, data (port only for rep) */
#define TRC_HVM_IOPORT_WRITE  0x00082216u
#define TRC_HVM_IOMEM_READ    0x00082017u /* gpa, data */
#define TRC_HVM_IOMEM_WRITE   0x00082217u
#define TRC_HVM_IOMEM_READ64  0x00082117u /* gpa lo, hi, data lo, hi */
#define TRC_HVM_IOMEM_WRITE64 0x00082317u
#define TRC_HVM_CLTS          0x00082018u
#define TRC_HVM_LMSW          0x00082019u
#define TRC_HVM_LMSW64        0x00082119u
#define TRC_HVM_RDTSC         0x0008201au /* eax, edx */
#define TRC_HVM_INTR_WINDOW   0x00082020u /* vector, source, entry intr info & 0xff or -1 */
#define TRC_HVM_NPF           0x00082021u /* gpa lo, hi, mfn lo, hi, qual, p2mt */
#define TRC_HVM_REALMODE_EMULATE 0x00082022u
#define TRC_HVM_TRAP          0x00082023u /* vector */
#define TRC_HVM_TRAP_DEBUG    0x00082024u /* qualification */
#define TRC_HVM_VLAPIC        0x00082025u
#define TRC_HVM_XCR_READ64    0x00082126u
#define TRC_HVM_XCR_WRITE64   0x00082127u

/* INTR_WINDOW source word. */
enum trc_intr_source { INTR_SRC_NONE = 0, INTR_SRC_PIC = 1, INTR_SRC_LAPIC = 2, INTR_SRC_NMI = 3,
		       INTR_SRC_MCE = 4, INTR_SRC_VECTOR = 5 };
/* NPF p2m type word. */
#define TRC_P2M_RAM_RW  0u
#define TRC_P2M_MMIO_DM 4u

/*
 * vmxlab's own records: GEN class, minor ids 0x800-0x8ff (0x0001f800-
 * 0x0001f8ff).  Xen itself uses GEN minors 1-4 only.  They carry run metadata
 * and native measurements, which are kept out of the deterministic records.
 * How Xen's tools treat them is documented (and tested) with the trace
 * writer in docs/traces.md.
 */
#define TRC_VMXLAB_BASE       0x0001f800u
#define TRC_VMXLAB_LAST       0x0001f8ffu
#define TRC_VMXLAB_NATIVE_COST 0x0001f801u /* measured ns lo, hi, TSC cycles lo, hi */
#define TRC_VMXLAB_RUN_INFO    0x0001f802u /* format (TRC_VMXLAB_FORMAT), TSC kHz, handler ABI, device ABI */
#define TRC_VMXLAB_PHASE       0x0001f803u /* guest workload phase (hypercall) */
#define TRC_VMXLAB_DM_ROUNDTRIP 0x0001f804u /* device index, modelled ns lo, hi */
/* The exit's inputs, written by `vmxlab run` between an exit's VMEXIT and its
 * handler records so that `vmxlab replay` can repeat the handler's decisions
 * exactly: everything the handler read that a Xen record lacks. */
#define TRC_VMXLAB_EXIT_TIME   0x0001f810u /* virtual ns lo, hi; modelled charge before the handler lo, hi */
#define TRC_VMXLAB_VMCS_READ   0x0001f811u /* (field, value lo, value hi) x 1-2: VMCS fields read */
#define TRC_VMXLAB_REG_READ    0x0001f812u /* (register, lo, hi) x 1-2: vmx.h enum vmx_gpr */
#define TRC_VMXLAB_MEM_READ    0x0001f813u /* gpa lo, hi, length 1-16, then the bytes: guest RAM read */
#define TRC_VMXLAB_RUN_END     0x0001f814u /* virtual ns lo, hi at the end of the run; format 2: the run's digest lo, hi */
#define TRC_VMXLAB_DEVICE      0x0001f815u /* placement (0 hv, 1 dm), name (up to 24 bytes) */
#define TRC_VMXLAB_MEM_FAIL    0x0001f816u /* gpa lo, hi, length: a guest RAM read that failed */
/*
 * Format 2: the device-model process's side of the ioreq protocol
 * (ioreq.h), so that replay answers the handler build's requests to devices
 * placed dm exactly as vmxlab-dm did, with no device-model process, disk
 * image or network peer.  Within an exit they follow its inputs, in the
 * order the handler met them; between exits they stand where they happened.
 */
#define TRC_VMXLAB_DM_ANSWER   0x0001f817u /* data lo, hi, charge ns lo, hi, PIC pending: a request the vCPU waited for */
#define TRC_VMXLAB_DM_EVENT    0x0001f818u /* virtual ns lo, hi, PIC pending, op: a timer or an IRQ notification */
#define TRC_VMXLAB_DM_IRQ      0x0001f819u /* line, level: an interrupt line the answer or event drove */
#define TRC_VMXLAB_IDLE        0x0001f81au /* virtual ns lo, hi the idle step (HLT) reached; ~0 ~0: none pending */
#define TRC_VMXLAB_DEVICE_OPT  0x0001f81bu /* device index, offset, up to 20 bytes of its options */
#define TRC_VMXLAB_DEV_DUMP    0x0001f81cu /* device index, up to 24 bytes of a dm device's state dump at the end */
#define TRC_VMXLAB_SHMEM_AT    0x0001f81du /* virtual ns lo, hi: the SHMEM records after it were synced then */
#define TRC_VMXLAB_SHMEM       0x0001f81eu /* gpa lo, hi, length 1-16, the bytes: memory shared with a device, changed */
#define TRC_VMXLAB_FORMAT      2u
/* A handler build says an exit was resumed without the model it would need
 * (the reference build has no local APIC, no device where nothing is
 * mapped): basic reason, what, qualification lo, hi.  The last of the
 * exit's handler records. */
#define TRC_VMXLAB_NOT_MODELLED 0x0001f820u
#define TRC_NOT_MODELLED_LOCAL_APIC 1u
#define TRC_NOT_MODELLED_NO_DEVICE  2u  /* MMIO where neither RAM nor a device is: all ones, dropped */
#define TRC_IS_VMXLAB(ev) ((ev) >= TRC_VMXLAB_BASE && (ev) <= TRC_VMXLAB_LAST)

/* One decoded record. */
struct trc_record {
	uint32_t event;        /* 28-bit event id */
	uint32_t cpu;          /* physical CPU of the window */
	uint64_t tsc;          /* own TSC, or inherited from the CPU's last */
	uint8_t has_tsc;
	uint8_t n;             /* payload words */
	uint32_t d[TRC_REC_MAX_EXTRA];
	uint64_t offset;       /* byte offset of the record in the file */
};

/* ======================================================================
 * Writer and reader (replay/trace_write.c, replay/trace_read.c).
 * Format facts, limits and what a caller must emit: docs/traces.md.
 * ====================================================================== */
#include <stdbool.h>
#include <stddef.h>

/* xentrace's default per-pcpu data size, 32 pages * 4096 - 8 bytes
 * (xentrace.c write_buffer(); xentrace.md 1.1): the writer's window limit. */
#define TRC_WINDOW_MAX 131064u
/* Physical CPU numbers the writer and reader accept: 0 .. TRC_MAX_CPUS-1. */
#define TRC_MAX_CPUS 4096u
/* xenalyze's synthetic "default domain" for records before any runstate
 * record on their pcpu (xentrace.md 1.4). */
#define TRC_DOM_DEFAULT 32768u

/*
 * Writer.  Buffers records per pcpu and writes each pcpu's buffer as one
 * CPU_CHANGE window (at most TRC_WINDOW_MAX bytes, records never split) when
 * it fills, on flush and on close.  The file is a valid trace after every
 * window, so after every flush.  Not async-signal-safe: a signal handler
 * sets a flag, the run loop calls flush/close.
 */
struct trc_writer;
/* Create/truncate path.  NULL with err filled. */
struct trc_writer *trc_writer_open(const char *path, char *err, size_t errlen);
/* Window limit in bytes: a multiple of 4 in [TRC_REC_MAX_BYTES,
 * TRC_WINDOW_MAX] (tests use small windows).  0 or -1. */
int trc_writer_set_window(struct trc_writer *w, size_t bytes);
/* Append one record from physical CPU `cpu`; has_tsc selects the cycles
 * flag.  0, or -1 (bad argument: cpu >= TRC_MAX_CPUS, n > 7, event wider
 * than 28 bits or CPU_CHANGE; or a write error, which is sticky).  The
 * reason is in trc_writer_error(). */
int trc_writer_put(struct trc_writer *w, uint32_t cpu, uint32_t event, bool has_tsc, uint64_t tsc,
		   const uint32_t *words, unsigned n);
/* RUNSTATE_CHANGE old->new for dom:vcpu on cpu, with TSC (xentrace.md 1.4):
 * what xenalyze uses to charge the following records to dom:vcpu. */
int trc_writer_runstate(struct trc_writer *w, uint32_t cpu, uint64_t tsc, uint16_t dom, uint16_t vcpu,
			enum trc_runstate old_state, enum trc_runstate new_state);
/* Everything so far on disk as complete windows (write(2), not fsync). */
int trc_writer_flush(struct trc_writer *w);
/* Flush, close and free (also after an error).  0, or -1 with err filled
 * with the first write error. */
int trc_writer_close(struct trc_writer *w, char *err, size_t errlen);
/* Text of the last error, "" if none. */
const char *trc_writer_error(const struct trc_writer *w);
/* Bytes written to the file so far (complete windows). */
uint64_t trc_writer_bytes(const struct trc_writer *w);
/* Whether Xen 4.17 stamps this event with a TSC: every record except the
 * HVM handler class (0x82xxx), which inherits the VMEXIT's (xentrace.md 1.5),
 * and CPU_CHANGE. */
bool trc_event_has_tsc(uint32_t event);

/*
 * Reader.  Streams a file written by xentrace or by the writer above, plain
 * or gzip-compressed (detected by its magic), and returns its records merged
 * across pcpus in TSC order, the way xenalyze does: each pcpu has its own
 * cursor through the windows of that pcpu (memory: one small buffer per pcpu,
 * independent of the file's size), records without a TSC inherit their
 * pcpu's last one, WRAP_BUFFER padding is skipped, and each record carries
 * the domain:vcpu running on its pcpu according to the runstate records
 * seen so far.
 */
struct trc_reader;

enum trc_reader_flags {
	TRC_READ_TOLERANT = 1,  /* skip corrupt data and count it instead of failing */
	TRC_READ_KEEP_WRAP = 2, /* also return WRAP_BUFFER records */
};

/* One record in merged order. */
struct trc_item {
	struct trc_record rec;  /* event, cpu, tsc (own or inherited), payload, file offset */
	uint32_t dom;           /* domain on rec.cpu; TRC_DOM_DEFAULT until a runstate record */
	uint32_t vcpu;
};

/* Diagnostics: level 0 error, 1 warning; offset is a byte offset in the
 * (uncompressed) trace. */
typedef void (*trc_diag_fn)(void *ctx, int level, uint64_t offset, const char *msg);

struct trc_reader_stats {
	uint64_t records;        /* returned to the caller */
	uint64_t bytes;          /* size of the (uncompressed) trace */
	uint64_t windows;        /* CPU_CHANGE windows */
	unsigned cpus;           /* distinct physical CPUs */
	uint64_t lost_records;   /* sum of LOST_RECORDS counts */
	uint64_t lost_events;    /* LOST_RECORDS records */
	uint64_t wraps;          /* WRAP_BUFFER records skipped */
	uint64_t corrupt;        /* corruptions skipped (tolerant mode) */
	uint64_t skipped_bytes;  /* bytes skipped because of them */
	uint64_t tsc_backwards;  /* records whose TSC is below their pcpu's last */
	uint64_t warnings;
	uint64_t reads;          /* read calls on the file (pread, gzread): O(windows) */
	bool truncated;          /* the last window is cut short */
	bool gzip;
};

/* Standard input copied into memory (a trace named `-`): a descriptor of a
 * regular file the reader can go back and forth in, or -1 with errno. */
int trc_copy_stdin(void);
/* Open path; scans its CPU_CHANGE chain first (every pcpu's windows must be
 * known before records can be merged).  NULL with err filled: "FILE: offset
 * N: what is wrong".  diag (may be NULL: warnings go to stderr) receives
 * warnings during open and next. */
struct trc_reader *trc_reader_open(const char *path, unsigned flags, trc_diag_fn diag, void *diag_ctx,
				   char *err, size_t errlen);
/* The next record: 1, 0 at the end, -1 on corrupt input (strict mode) or an
 * I/O error, with the message in trc_reader_error(). */
int trc_reader_next(struct trc_reader *r, struct trc_item *it);
/* The same without a copy: the record stays valid until the next call.
 * *status is 1, 0 at the end (NULL returned) or -1 on error (NULL). */
const struct trc_item *trc_reader_next_ref(struct trc_reader *r, int *status);
const char *trc_reader_error(const struct trc_reader *r);
const struct trc_reader_stats *trc_reader_stats(const struct trc_reader *r);
void trc_reader_close(struct trc_reader *r);

/* Record decoding helpers (trace_decode.c). */
/* VMEXIT / VMEXIT64 (xentrace.md 1.5): the full exit-reason word and RIP. */
bool trc_is_vmexit(uint32_t event);
bool trc_vmexit_decode(const struct trc_record *r, uint32_t *exit_reason, uint64_t *rip);
/* A name for any event id ("VMEXIT64", "IOPORT_WRITE", "RUNSTATE_CHANGE"),
 * or NULL for ids vmxlab does not know. */
const char *trc_event_name(uint32_t event);

#endif
