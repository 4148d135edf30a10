/* fn.h - value functions: the builtins a query or rule body computes values
 * with (`?y = year(?d)`, `?t = ?a + ?b`), the functions a host registers
 * (lore_function), and the evaluation of expression trees over them.
 *
 * Values computed in a body are lore_values; a bind element interns the
 * final one as a term (it lands in the row, and a rule may write it into a
 * fact).  Intermediate strings live in an evaluation's scratch buffer.
 *
 * Invariants:
 *  - the registry's names are distinct and never builtin names; an entry
 *    is never removed (registering a name again replaces its function), so
 *    an index held by a compiled expression stays valid.
 *  - a scratch buffer's strings stay valid until fn_scratch_reset. */
#ifndef LORE_FN_H
#define LORE_FN_H

#include "kb.h"

/* Expression nodes (in a program's arena of nodes, by index). */
enum qexpr_op {
    QX_SLOT, /* a variable or a constant */
    QX_CALL, /* a function: builtin (fn < 0: -fn - 1) or registered (fn >= 0) */
    QX_HOST, /* a host function given by pointer (lore_query_let_fn) */
    QX_ADD,
    QX_SUB,
    QX_MUL,
    QX_DIV,
    QX_NEG
};

typedef struct fnreg fnreg;

/* Scratch memory for one evaluation's intermediate strings: chunks that
 * never move, so values may point into it while more is asked for. */
typedef struct fn_chunk fn_chunk;
typedef struct fn_scratch {
    fn_chunk *first, *cur;
} fn_scratch;

void fn_scratch_reset(fn_scratch *sc);
void fn_scratch_free(const mem *m, fn_scratch *sc);

/* The builtin named name[0..n), or -1.  *minargs and *maxargs (may be
 * NULL) get how many arguments it takes. */
int fn_builtin(const char *name, size_t n, int *minargs, int *maxargs);
/* The builtins' names, comma-separated (for messages). */
const char *fn_builtin_names(void);
/* The name of builtin i, of registered function i. */
const char *fn_builtin_name(int i);
const char *fn_registered_name(const lore_kb *kb, int i);

/* Registers (or replaces) the host function `name`.  LORE_OK, NOMEM, ARG
 * (a builtin's name, a malformed name). */
int fn_register(lore_kb *kb, const char *name, lore_value_fn f, void *ud);
/* The registered function named name[0..n): its index, or -1. */
int fn_lookup(const lore_kb *kb, const char *name, size_t n);
void fn_free(lore_kb *kb);

/* Calls function `fn` (builtin when < 0, registered when >= 0; for a host
 * pointer, hf/hud) on nargs values.  LORE_OK with *out set, LORE_NOOP (no
 * value: a date without a month, a division by zero, a non-number), or a
 * negative status from a host function (message set). */
int fn_call(lore_kb *kb, int fn, lore_value_fn hf, void *hud, const lore_value *args, size_t nargs,
            lore_value *out, fn_scratch *sc);

/* Arithmetic: a op b for op in QX_ADD..QX_DIV, QX_NEG (b unused).
 * Integers stay integers unless they overflow or divide; anything with a
 * double is a double.  LORE_OK, or LORE_NOOP for non-numbers, a division by
 * zero, a result that is not a number. */
int fn_arith(int op, const lore_value *a, const lore_value *b, lore_value *out);

/* A value's text: symbols, texts and dates their string, numbers and
 * booleans formatted (in sc). */
void fn_string(const lore_value *v, fn_scratch *sc, const mem *m, const char **s, size_t *n);

#endif
