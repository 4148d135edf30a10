/* rdfterm.h - how RDF terms and lore terms map onto each other, both ways
 * (the table in README.md, "Files and formats"), and the small text
 * codecs the mapping needs: percent-encoding of `urn:lore:` names and the
 * N-Triples form of literals.
 *
 * Reading maps every RDF term to exactly one lore value; writing maps
 * every lore term to an RDF term that reads back as the same lore term
 * (the writer checks this, falling back to a `urn:lore:` IRI, which always
 * reads back exactly).  So lore -> RDF -> lore is the identity on terms. */
#ifndef LORE_RDFTERM_H
#define LORE_RDFTERM_H

#include "mem.h"

#define NS_XSD "http://www.w3.org/2001/XMLSchema#"
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define URN_LORE "urn:lore:"
#define URN_LORE_LITERAL "urn:lore-literal:"

/* A growable byte buffer (always NUL-terminated when p != NULL). */
typedef struct sbuf {
    const mem *m;
    char *p;
    size_t n, cap;
} sbuf;

void sbuf_init(sbuf *b, const mem *m);
void sbuf_free(sbuf *b);
int sbuf_reserve(sbuf *b, size_t extra); /* LORE_OK or LORE_ERR_NOMEM */
int sbuf_put(sbuf *b, const void *s, size_t n);
int sbuf_putc(sbuf *b, char c);
static inline void sbuf_reset(sbuf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = '\0';
}

/* An RDF term as a parser hands it over; strings are borrowed and need
 * not be NUL-terminated. */
typedef enum rdf_type { RDF_NONE = 0, RDF_IRI = 1, RDF_BLANK = 2, RDF_LITERAL = 3 } rdf_type;

typedef struct rdf_node {
    rdf_type type;
    const char *str; /* IRI (no brackets), blank label (no "_:"), lexical form */
    size_t len;
    const char *dt; /* literal: datatype IRI, or NULL */
    size_t dtlen;
    const char *lang; /* literal: language tag, or NULL */
    size_t langlen;
} rdf_node;

/* ---- reading ---- */

/* The lore value of a literal.  Strings in *v point into the node or into
 * `scratch` (which the value then borrows).  When the literal has no exact
 * lore value (an unknown datatype, a value out of range, an ill-formed
 * lexical form) *v is the symbol holding its N-Triples form.  A caller
 * whose dictionary refuses *v (a NUL in a text, a language tag lore does
 * not accept) uses rdf_literal_verbatim instead.  LORE_OK or NOMEM. */
int rdf_literal_value(const rdf_node *n, lore_value *v, sbuf *scratch);

/* The symbol `"lex"@lang` / `"lex"^^<dt>` / `"lex"` (canonical N-Triples
 * escapes) of a literal, in scratch, as *v. */
int rdf_literal_verbatim(const rdf_node *n, lore_value *v, sbuf *scratch);

/* The lore value of an IRI: a `urn:lore:` IRI is the plain name it
 * encodes, a `urn:lore-literal:` IRI the literal it encodes, any other
 * the symbol `<IRI>`.  Strings go to scratch.  LORE_OK or NOMEM. */
int rdf_iri_value(const char *iri, size_t n, lore_value *v, sbuf *scratch);

/* ---- writing ---- */

enum { POS_SUBJECT, POS_PREDICATE, POS_OBJECT, POS_GRAPH };

/* Fills *out with the RDF term standing for lore value v in position pos.
 * `turtle` selects the blank-label escaping Turtle and TriG need (serd
 * renames labels like b1 there).  The node's strings live in buf (and in v);
 * dtbuf holds a datatype.  LORE_OK or NOMEM. */
int rdf_term_node(const lore_value *v, int pos, int turtle, rdf_node *out, sbuf *buf, sbuf *dtbuf);

/* ---- codecs (shared with the tests) ---- */

/* Appends s[0..n) percent-encoded: bytes outside A-Z a-z 0-9 -._~!$&'()*+,;=:@/
 * and below 0x80 become %XX (non-ASCII UTF-8 is kept). */
int rdf_pct_encode(sbuf *b, const char *s, size_t n);

/* Appends the canonical N-Triples escape of s[0..n) (without quotes). */
int rdf_nt_escape(sbuf *b, const char *s, size_t n);

/* Parses a whole N-Triples literal `"..."[@tag|^^<iri>]` from s[0..n): the
 * unescaped lexical form goes to lex (NUL bytes included), *node points
 * into lex and s.  Returns 0, or -1 if s is not exactly one literal. */
int rdf_nt_literal_parse(const char *s, size_t n, sbuf *lex, rdf_node *node);

/* 1 if iri is absolute (has a scheme) and holds only IRI characters. */
int rdf_iri_ok(const char *iri, size_t n);

/* 1 if s is a blank node label lore writes as such: [A-Za-z0-9_] then
 * [A-Za-z0-9_.-]*, not ending with '.'. */
int rdf_label_ok(const char *s, size_t n);

#endif
