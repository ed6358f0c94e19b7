// qat: quantization-aware training and quantized inference for Gemma models.
#include <omp.h>

#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"

namespace qat::cli {
void set_threads(int threads) {
  if (threads < 0) fail("--threads must be >= 0, got ", threads);
  if (threads > 0) omp_set_num_threads(threads);
}
}  // namespace qat::cli

int main(int argc, char** argv) {
  CLI::App app{"qat - quantization-aware training and fast quantized inference for Gemma 3 / Gemma 4"};
  app.require_subcommand(1);
  app.get_formatter()->column_width(34);
  qat::cli::add_info(app);
  qat::cli::add_init(app);
  qat::cli::add_convert(app);
  qat::cli::add_quantize(app);
  qat::cli::add_run(app);
  qat::cli::add_chat(app);
  qat::cli::add_demo(app);
  qat::cli::add_score(app);
  qat::cli::add_bench(app);
  qat::cli::add_eval(app);
  qat::cli::add_train(app);
  qat::cli::add_qat(app);
  qat::cli::add_tokenizer(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const qat::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "HINT: %s\n", e.hint().c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
