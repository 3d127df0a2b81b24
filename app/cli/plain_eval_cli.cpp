#include "plain_eval_cli.h"

#include "eval_report.h"
#include "progress_printer.h"
#include "usage.h"

#include "eval/plain_eval.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>

namespace mq::cli {

int runPlainEval(int argc, char** argv)
{
    const char* mode = std::getenv("MQ_PLAIN_EVAL");
    if (mode && !std::strcmp(mode, "0"))
        return -1;
    const bool explain = mode && !std::strcmp(mode, "1");
    auto handOver = [&](const std::string& why) {
        if (explain)
            std::fprintf(stderr, "morphoquant-cli eval: the engine runs this evaluation: %s\n", why.c_str());
        return -1;
    };
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(v))
            return handOver("started by an MPI launcher");
    const Args a = parseArgs("eval", argc, argv);
    if (a.has("reference"))
        return handOver("--reference");
    if (a.has("mem-budget"))
        return handOver("--mem-budget");
    const EvalOptions o = evalOptions(a);
    core::PlainEvalRequest request;
    request.model = o.model;
    request.data = o.data;
    request.threads = o.threads;
    request.batch = o.batch;
    core::PlainEvalResult r;
    {
        ProgressPrinter pp(a.flag("quiet"));
        try {
            r = core::plainEvaluate(request, pp.sink());
        } catch (const std::exception& e) {
            pp.finishLine();
            return handOver(e.what());
        }
        pp.finishLine();
    }
    if (!r.ran)
        return handOver(r.whyNot);
    const std::string label = "full precision";
    printNll(label, r.nll, r.ppl, r.tokens);
    if (a.flag("json"))
        std::cout << evalJsonLine(r.nll, r.ppl, r.tokens, o.model, o.data, label, false, "plain").dump() << std::endl;
    if (a.flag("report-peak-rss"))
        printPeakRss();
    return 0;
}

} // namespace mq::cli
