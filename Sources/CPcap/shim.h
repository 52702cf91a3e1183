#ifndef PROXYARPD_CPCAP_SHIM_H
#define PROXYARPD_CPCAP_SHIM_H
#include <pcap/pcap.h>

/* The capture thread's loop (ProxyARPIO.ThreadExecutor) needs these two, which the
   Swift Glibc module does not export: an eventfd to wake the poll loop, and thread
   names (a GNU extension, declared here as glibc declares it under _GNU_SOURCE). */
#include <sys/eventfd.h>
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
#endif
