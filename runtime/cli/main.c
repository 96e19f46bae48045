#include <stdio.h>
int main(void) { puts("xbar"); return 0; }
