/* budget.h - a CPU-time budget per fuzz input for the targets that run
 * what they read (queries, rules): a query may rightly take forever (a
 * join of many free patterns), so after BUDGET_MS of CPU time a watched
 * flag asks lore to stop, as Ctrl-C does at the REPL.  A loop that ignores
 * it still hangs, and libFuzzer's -timeout reports that.  SIGVTALRM counts
 * CPU time and leaves SIGALRM to libFuzzer. */
#ifndef FUZZ_BUDGET_H
#define FUZZ_BUDGET_H

#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "lore.h"

enum { BUDGET_MS = 50 }; /* short: a fuzzing run of half a minute must get past its corpus */

static volatile sig_atomic_t budget_spent;

static void budget_alarm(int sig)
{
    (void)sig;
    budget_spent = 1;
}

/* Watches the flag from kb (once) and starts the budget of one input. */
static void budget_start(lore_kb *kb)
{
    static int installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = budget_alarm;
        sigaction(SIGVTALRM, &sa, NULL);
        installed = 1;
    }
    lore_kb_watch(kb, &budget_spent);
    budget_spent = 0;
    struct itimerval t = {{0, 0}, {BUDGET_MS / 1000, (BUDGET_MS % 1000) * 1000}};
    setitimer(ITIMER_VIRTUAL, &t, NULL);
}

static void budget_stop(void)
{
    struct itimerval t = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &t, NULL);
    budget_spent = 0;
}

#endif
