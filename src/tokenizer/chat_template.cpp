// Gemma's chat template, hand-written to render exactly what the jinja
// template in Gemma 3's tokenizer_config.json renders (checked against
// transformers' apply_chat_template in tests/tokenizer), minus the leading
// {{ bos_token }}: encode(..., add_bos=true) adds <bos>.
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "tokenizer/gemma_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace qat {

namespace tok {
// The template as shipped with Gemma 3 (written to exported checkpoints
// that carry none).
const char* const kGemmaChatTemplate =
    "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if messages[0]['content'] is string "
    "-%}\n        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\n    {%- else -%}\n        "
    "{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}\n    {%- endif -%}\n    {%- set "
    "loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix = \"\" -%}\n    {%- set "
    "loop_messages = messages -%}\n{%- endif -%}\n{%- for message in loop_messages -%}\n    {%- if "
    "(message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n        {{ raise_exception(\"Conversation "
    "roles must alternate user/assistant/user/assistant/...\") }}\n    {%- endif -%}\n    {%- if "
    "(message['role'] == 'assistant') -%}\n        {%- set role = \"model\" -%}\n    {%- else -%}\n        "
    "{%- set role = message['role'] -%}\n    {%- endif -%}\n    {{ '<start_of_turn>' + role + '\n' + "
    "(first_user_prefix if loop.first else \"\") }}\n    {%- if message['content'] is string -%}\n        {{ "
    "message['content'] | trim }}\n    {%- elif message['content'] is iterable -%}\n        {%- for item in "
    "message['content'] -%}\n            {%- if item['type'] == 'image' -%}\n                {{ "
    "'<start_of_image>' }}\n            {%- elif item['type'] == 'text' -%}\n                {{ item['text'] | "
    "trim }}\n            {%- endif -%}\n        {%- endfor -%}\n    {%- else -%}\n        {{ "
    "raise_exception(\"Invalid content type\") }}\n    {%- endif -%}\n    {{ '<end_of_turn>\n' }}\n{%- endfor "
    "-%}\n{%- if add_generation_prompt -%}\n    {{'<start_of_turn>model\n'}}\n{%- endif -%}\n";
}  // namespace tok

namespace {

// Decodes the code point at s[i] (assumes valid UTF-8; a bad byte is itself).
uint32_t code_point(std::string_view s, size_t i, size_t* len) {
  const uint8_t c = uint8_t(s[i]);
  size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

// Python's str.isspace(), which jinja's `trim` filter (str.strip) uses.
bool py_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::string_view trim(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t n;
    if (!py_space(code_point(s, b, &n))) break;
    b += n;
  }
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (uint8_t(s[start]) & 0xC0) == 0x80) --start;
    size_t n;
    if (!py_space(code_point(s, start, &n)) || start + n != e) break;
    e = start;
  }
  return s.substr(b, e - b);
}

}  // namespace

std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  QAT_CHECK(!messages.empty(), "chat template: the conversation is empty; give at least one message");
  size_t first = 0;
  std::string prefix;  // the system message, prepended to the first user turn (not trimmed, as the template)
  if (messages[0].role == "system") {
    prefix = messages[0].content + "\n\n";
    first = 1;
  }
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const size_t turn = i - first;
    // Even turns are the user's, odd turns anyone else's (the template's rule).
    if ((m.role == "user") != (turn % 2 == 0))
      fail("chat template: message ", i, " has role \"", m.role,
           "\": conversation roles must alternate user/assistant/user/assistant/...",
           first ? " after an optional first system message" : "");
    out += "<start_of_turn>";
    out += m.role == "assistant" ? std::string("model") : m.role;
    out += "\n";
    if (turn == 0) out += prefix;
    out += trim(m.content);
    out += "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

}  // namespace qat
