// Finds added tokens in text, leftmost-longest, as HF's AddedVocabulary does
// (aho-corasick with MatchKind::LeftmostLongest): at the first position where
// any token starts, the longest token starting there wins.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/gemma_tokenizer.h"

namespace qat::tok {

struct GemmaTokenizer::Matcher {
  // A byte trie; children of a node form a singly linked sibling list (few
  // children per node except at the root, which has a direct table).
  struct Node {
    int32_t child = -1, sibling = -1, id = -1;
    uint8_t byte = 0;
  };
  std::vector<Node> nodes = std::vector<Node>(1);
  std::array<int32_t, 256> root{};  // first-byte -> node, -1 when no token starts so
  bool empty = true;

  Matcher() { root.fill(-1); }

  void add(std::string_view text, int32_t id) {
    empty = false;
    int32_t cur = -1;
    for (size_t i = 0; i < text.size(); ++i) {
      const uint8_t b = uint8_t(text[i]);
      int32_t next;
      if (cur < 0) {
        next = root[b];
        if (next < 0) {
          next = new_node(b);
          root[b] = next;
        }
      } else {
        next = nodes[size_t(cur)].child;
        while (next >= 0 && nodes[size_t(next)].byte != b) next = nodes[size_t(next)].sibling;
        if (next < 0) {
          next = new_node(b);
          nodes[size_t(next)].sibling = nodes[size_t(cur)].child;
          nodes[size_t(cur)].child = next;
        }
      }
      cur = next;
    }
    if (nodes[size_t(cur)].id < 0) nodes[size_t(cur)].id = id;  // first definition wins
  }

  // Longest token starting at text[pos]: returns its length (0: none) and id.
  size_t match_at(std::string_view text, size_t pos, int32_t* id) const {
    int32_t cur = root[uint8_t(text[pos])];
    size_t best = 0;
    for (size_t i = pos; cur >= 0;) {
      const Node& n = nodes[size_t(cur)];
      ++i;
      if (n.id >= 0) {
        best = i - pos;
        *id = n.id;
      }
      if (i == text.size()) break;
      const uint8_t b = uint8_t(text[i]);
      cur = n.child;
      while (cur >= 0 && nodes[size_t(cur)].byte != b) cur = nodes[size_t(cur)].sibling;
    }
    return best;
  }

  // Calls on_text(string_view) for text between matches and on_token(id)
  // for each match, in order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText on_text, OnToken on_token) const {
    if (empty) {
      if (!text.empty()) on_text(text);
      return;
    }
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
      int32_t id = -1;
      const size_t len = root[uint8_t(text[i])] < 0 ? 0 : match_at(text, i, &id);
      if (len == 0) {
        ++i;
        continue;
      }
      if (start < i) on_text(text.substr(start, i - start));
      on_token(id);
      i += len;
      start = i;
    }
    if (start < text.size()) on_text(text.substr(start));
  }

 private:
  int32_t new_node(uint8_t b) {
    Node n;
    n.byte = b;
    nodes.push_back(n);
    return int32_t(nodes.size() - 1);
  }
};

}  // namespace qat::tok
