#include <cstdio>
int main() { std::puts("qat"); return 0; }
