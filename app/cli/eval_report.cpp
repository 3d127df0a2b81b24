#include "eval_report.h"

#include <cstdio>

#include <sys/resource.h>

namespace mq::cli {

void printNll(const std::string& label, double nll, double ppl, int64_t tokens)
{
    std::printf("%-28s nll %.6f  ppl %.4f  tokens %lld\n", label.c_str(), nll, ppl, static_cast<long long>(tokens));
}

nlohmann::json nllJson(double nll, double ppl, int64_t tokens)
{
    return nlohmann::json{{"nll", nll}, {"ppl", ppl}, {"tokens", tokens}};
}

nlohmann::json evalJsonLine(double nll, double ppl, int64_t tokens, const std::string& model, const std::string& data,
                            const std::string& label, bool quantized, const std::string& runner)
{
    nlohmann::json j = nllJson(nll, ppl, tokens);
    j["command"] = "eval";
    j["model"] = model;
    j["data"] = data;
    j["label"] = label;
    j["quantized"] = quantized;
    j["runner"] = runner;
    return j;
}

void printPeakRss()
{
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("peak_rss_kib %ld\n", long(ru.ru_maxrss));
}

} // namespace mq::cli
