/* Process set-up shared by the programs. */
#ifndef LLHLS_PROCESS_H
#define LLHLS_PROCESS_H

/* Raises the soft limit on open descriptors to the hard limit: thousands of
 * held requests and player connections each need one. */
void llhls_raise_fd_limit(void);

#endif
