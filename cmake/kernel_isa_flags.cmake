# One kernel file per SIMD level, each compiled with exactly that level's ISA;
# the kernel table picks one at run time (src/kernels/kernel_table.h).
# Call from the directory whose targets compile the files.
function(qat_kernel_isa_flags root)
  # The row ops' exp/tanh polynomials blend both sides of a comparison; GCC
  # vectorizes that only when it may ignore FP exception flags (nothing in
  # qat reads them), and square roots only when they need not set errno.
  # Values are unchanged. The softmax's 64-byte GCC vectors (F32x16) draw a
  # -Wpsabi note where AVX-512 is off; they never cross a call between files
  # (inline, ops.cpp only).
  set(ops_flags "-fno-trapping-math;-fno-math-errno;-Wno-psabi")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    # Where the build targets AVX-512 (-march=native on such a host), GCC's
    # default tuning still picks 256-bit vectors. For the row ops 512 bits
    # paid on the Intel Xeon (stop 30, bench_ops): GeGLU 13-17 % and RMSNorm
    # 15-30 % less time, the fraud demo's INT8 / INT4 p50 3.5-5 % lower; FP32
    # scoring was 0-4 % slower in the same runs. No effect without AVX-512.
    list(APPEND ops_flags "-mprefer-vector-width=512")
  endif()
  set_source_files_properties(${root}/src/kernels/ops.cpp PROPERTIES COMPILE_OPTIONS "${ops_flags}")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set_source_files_properties(${root}/src/kernels/kernels_avx2.cpp ${root}/src/kernels/kernels_compat_avx2.cpp
      ${root}/src/kernels/kernels_compat_decode_avx2.cpp ${root}/src/kernels/kernels_iq_decode_avx2.cpp
      PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    # GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized (GCC bug 105593).
    # The level requires F, BW, VL and VNNI (base/cpu_features.cpp) and no
    # more: the other AVX-512 subsets are switched off so that a file using
    # one fails to compile on every host, not only on hosts whose
    # -march=native lacks it (stop 23's _mm512_xor_ps, AVX512DQ, built on
    # Zen 4 and broke the build on AVX2-only Zen 3).
    set_source_files_properties(${root}/src/kernels/kernels_avx512.cpp ${root}/src/kernels/kernels_compat_decode_avx512.cpp
      ${root}/src/kernels/kernels_compat_prompt_avx512.cpp
      PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-mno-avx512dq;-mno-avx512cd;-mno-avx512vbmi;-mno-avx512vbmi2;-mno-avx512ifma;-mno-avx512bitalg;-mno-avx512vpopcntdq;-mno-avx512bf16;-Wno-maybe-uninitialized")
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set_source_files_properties(${root}/src/kernels/kernels_neon.cpp ${root}/src/kernels/kernels_compat_neon.cpp
      PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
  endif()
endfunction()
