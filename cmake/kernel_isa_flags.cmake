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
  set_source_files_properties(${root}/src/kernels/ops.cpp PROPERTIES COMPILE_OPTIONS "-fno-trapping-math;-fno-math-errno;-Wno-psabi")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set_source_files_properties(${root}/src/kernels/kernels_avx2.cpp ${root}/src/kernels/kernels_compat_avx2.cpp
      ${root}/src/kernels/kernels_compat_decode_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    # GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized (GCC bug 105593).
    set_source_files_properties(${root}/src/kernels/kernels_avx512.cpp ${root}/src/kernels/kernels_compat_decode_avx512.cpp
      ${root}/src/kernels/kernels_compat_prompt_avx512.cpp
      PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-Wno-maybe-uninitialized")
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set_source_files_properties(${root}/src/kernels/kernels_neon.cpp ${root}/src/kernels/kernels_compat_neon.cpp
      PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
  endif()
endfunction()
