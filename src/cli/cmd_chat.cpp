// qat chat: a multi-turn conversation with Gemma's chat template. Reads one
// user message per line from stdin; the KV cache carries the conversation.
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/generation_options.h"
#include "model/generate.h"

namespace qat::cli {

void add_chat(CLI::App& app) {
  struct Opts {
    GenerationOptions gen;
    std::string system;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("chat", "Chat with a model (one message per line on stdin; empty line or EOF ends)");
  add_generation_options(cmd, o->gen);
  cmd->add_option("--system", o->system, "System prompt (prepended to the first user turn, as Gemma does)");
  cmd->callback([o] {
    auto model = load_model_for_generation(o->gen);
    const Tokenizer& tok = *model->tokenizer;
    QAT_CHECK(tok.special().start_of_turn >= 0 && tok.special().end_of_turn >= 0,
              o->gen.model_path, ": the vocabulary has no <start_of_turn>/<end_of_turn>, so it cannot chat");
    Session session(*model, effective_context(o->gen, *model));
    Sampler sampler(o->gen.sampler);
    const bool tty = ::isatty(0);
    bool first = true;
    int32_t pending = -1;  // the previous reply's last token, if generation stopped before feeding it
    std::string line;
    while (true) {
      if (tty) std::fputs("> ", stdout), std::fflush(stdout);
      if (!std::getline(std::cin, line) || line.empty()) break;
      std::vector<ChatMessage> msgs;
      if (first && !o->system.empty()) msgs.push_back({"system", o->system});
      msgs.push_back({"user", line});
      // Later turns first close the model's previous reply (generation stopped
      // before feeding <end_of_turn>).
      const std::string text = (first ? "" : "<end_of_turn>\n") + apply_chat_template(msgs, true);
      std::vector<int32_t> ids = tok.encode(text, first);
      if (pending >= 0) ids.insert(ids.begin(), pending);
      if (session.n_past() + int(ids.size()) + o->gen.n_predict > session.max_context()) {
        std::fprintf(stderr, "[context full (%d tokens): starting a new conversation]\n", session.max_context());
        session.reset();
        ids = tok.encode(apply_chat_template(msgs, true), true);
      }
      pending = -1;
      first = false;
      Utf8Stream stream;
      GenerationStats st = generate(session, ids, o->gen.n_predict, sampler, stop_ids(*model), [&](int32_t t) {
        std::fputs(stream.push(tok.token_bytes(t)).c_str(), stdout);
        std::fflush(stdout);
        return true;
      });
      pending = st.unfed_token;
      std::fputs((stream.flush() + "\n").c_str(), stdout);
      std::fprintf(stderr, "[%d prompt tokens at %.1f t/s, %d generated at %.1f t/s]\n", st.prompt_tokens,
                   st.prompt_tps(), st.generated_tokens, st.generate_tps());
      std::fflush(stdout);
    }
  });
}

}  // namespace qat::cli
