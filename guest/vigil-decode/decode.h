/* vigil-decode in parts (../vigil-decode.c has main and the order of the
 * calls; net.c the sockets' and waits'). */
#ifndef VIGIL_GUEST_DECODE_H
#define VIGIL_GUEST_DECODE_H

#define BAD ((void *)8) /* never mapped */

void sockopts(void);
void epolls(void);
void messages(void);
void selects(void);
void ppolls(void);
void recvfroms(void);

#endif
