// qat run: complete a prompt, streaming tokens, then print speeds.
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/generation_options.h"
#include "model/generate.h"

namespace qat::cli {

void add_run(CLI::App& app) {
  struct Opts {
    GenerationOptions gen;
    std::string prompt;
    bool no_bos = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  add_generation_options(cmd, o->gen);
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  cmd->add_flag("--no-bos", o->no_bos, "Do not prepend <bos>");
  cmd->callback([o] {
    auto model = load_model_for_generation(o->gen);
    const Tokenizer& tok = *model->tokenizer;
    std::vector<int32_t> ids = tok.encode(o->prompt, !o->no_bos);
    QAT_CHECK(!ids.empty(), "the prompt encodes to no tokens");
    Session session(*model, effective_context(o->gen, *model));
    Sampler sampler(o->gen.sampler);
    Utf8Stream stream;
    std::fputs(o->prompt.c_str(), stdout);
    std::fflush(stdout);
    GenerationStats st = generate(session, ids, o->gen.n_predict, sampler, stop_ids(*model), [&](int32_t t) {
      std::fputs(stream.push(tok.token_bytes(t)).c_str(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputs((stream.flush() + "\n").c_str(), stdout);
    std::fprintf(stderr, "\nprompt:     %d tokens in %.3f s (%.1f tokens/s)\n", st.prompt_tokens,
                 st.prompt_seconds, st.prompt_tps());
    std::fprintf(stderr, "generation: %d tokens, %.1f tokens/s over %d decode steps\n",
                 st.generated_tokens, st.generate_tps(), st.decode_steps);
  });
}

}  // namespace qat::cli
