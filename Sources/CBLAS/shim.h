#include <x86_64-linux-gnu/cblas.h>
// OpenBLAS extension: thread count at run time (OPENBLAS_NUM_THREADS is read only at load time).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
