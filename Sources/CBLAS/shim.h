// OpenBLAS's CBLAS interface and its own extensions (core name, thread count).
#include <cblas.h>
