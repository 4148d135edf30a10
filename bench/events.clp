; events.clp - CLIPS 6.30 on the event stream of bench/events.sh: the W2
; forest's ancestor rules (as the rig's peers/clips.clp), a rule that hears
; every new anc fact (the host's callback), then each event asserted and
; (run) at once, its time written to a file.  events.sh defines ?*forest*,
; ?*events*, ?*out* and calls (main).
(deftemplate parent (slot a) (slot b))
(deftemplate anc (slot a) (slot b))
(defglobal ?*heard* = 0)

(defrule anc-base
  (parent (a ?a) (b ?b))
  =>
  (assert (anc (a ?a) (b ?b))))

(defrule anc-step
  (parent (a ?a) (b ?b))
  (anc (a ?b) (b ?c))
  =>
  (assert (anc (a ?a) (b ?c))))

(defrule heard
  (anc (a ?a) (b ?b))
  =>
  (bind ?*heard* (+ ?*heard* 1)))

(deffunction main ()
  (open ?*forest* nt "r")
  (bind ?line (readline nt))
  (while (neq ?line EOF) do
    (bind ?t (explode$ ?line))
    (if (eq (nth$ 2 ?t) <http://example.org/parent>) then
      (assert (parent (a (nth$ 1 ?t)) (b (nth$ 3 ?t)))))
    (bind ?line (readline nt)))
  (close nt)
  (run)
  (bind ?initial ?*heard*)
  (open ?*events* ev "r")
  (open ?*out* lat "w")
  (bind ?n 0)
  (bind ?t0 (time))
  (bind ?line (readline ev))
  (while (neq ?line EOF) do
    (bind ?t (explode$ ?line))
    (bind ?s (time))
    (assert (parent (a (sym-cat "<http://example.org/" (nth$ 1 ?t) ">"))
                    (b (sym-cat "<http://example.org/" (nth$ 2 ?t) ">"))))
    (run)
    (printout lat (- (time) ?s) crlf)
    (bind ?n (+ ?n 1))
    (bind ?line (readline ev)))
  (printout t "clips events " ?n " seconds " (- (time) ?t0) " heard " (- ?*heard* ?initial) crlf)
  (close ev)
  (close lat))
