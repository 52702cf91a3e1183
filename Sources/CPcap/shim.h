#ifndef PROXYARPD_CPCAP_SHIM_H
#define PROXYARPD_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
