#pragma once
// What `eval` prints, shared by the engine (commands.cpp) and the launcher's evaluation of small
// models (plain_eval_cli.cpp), so that both answer alike: the result line and --json's keys.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mq::cli {

// "LABEL  nll N  ppl P  tokens T" on stdout.
void printNll(const std::string& label, double nll, double ppl, int64_t tokens);

// {"nll", "ppl", "tokens"}.
nlohmann::json nllJson(double nll, double ppl, int64_t tokens);

// eval's --json line without the KL keys: nllJson plus "command": "eval", "model", "data",
// "label", "quantized" and "runner" (which program computed it: "engine", LibTorch, or "plain",
// the launcher's evaluation of small full-precision models, core/eval/plain_eval.h).
nlohmann::json evalJsonLine(double nll, double ppl, int64_t tokens, const std::string& model, const std::string& data,
                            const std::string& label, bool quantized, const std::string& runner);

// --report-peak-rss: "peak_rss_kib N" on stdout, the process's peak resident memory.
void printPeakRss();

} // namespace mq::cli
