// morphoquant: the workbench GUI.
#include "main_window.h"

#include "common/process_env.h"
#include "common/runtime.h"
#include "job_controller.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSettings>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

#include <algorithm>
#include <cstdio>

namespace {

// Lets queued replots and layouts settle before a grab.
void settle()
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 300)
        QApplication::processEvents(QEventLoop::AllEvents, 50);
}

// --help, -h, --help-all, --version, -v: answered without a display (QCoreApplication), so
// `morphoquant --help` works on a machine without X or Wayland.
bool onlyWantsText(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--help" || a == "-h" || a == "--help-all" || a == "--version" || a == "-v" || a == "-?")
            return true;
    }
    return false;
}

// The command line, for --help alone (no display) and for the window alike.
void describeCommandLine(QCommandLineParser& parser)
{
    parser.setApplicationDescription(QCoreApplication::translate("main", "MorphoQuant Workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("screenshot"),
                      QCoreApplication::translate("main", "Save a 1400x900 picture of the window to <png> and exit."),
                      QStringLiteral("png")});
    parser.addOption({QStringLiteral("view"),
                      QCoreApplication::translate("main", "Bring these views to the front (comma-separated: %1).")
                          .arg(mq::ui::MainWindow::viewNames().join(QStringLiteral(", "))),
                      QStringLiteral("names")});
    parser.addOption({QStringLiteral("group"),
                      QCoreApplication::translate("main", "Select this input group (e.g. layers.1.o_in) in every view."),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("screenshot-size"),
                      QCoreApplication::translate("main", "Window size of --screenshot (default 1400x900)."),
                      QStringLiteral("WxH")});
    parser.addPositionalArgument(QStringLiteral("path"),
                                 QCoreApplication::translate("main", "Session file (.mqs) or model folder to open."));
}

} // namespace

int main(int argc, char** argv)
{
    // OpenBLAS chose its kernels when it loaded; where it took SSE3 ones on a CPU with AVX2 or
    // AVX-512 (Debian 12's OpenBLAS on CPUs newer than it), start again with OPENBLAS_CORETYPE
    // (and OMP_WAIT_POLICY) set: one more start-up against GEMMs several times faster
    // (6.6-8.7x for a 7B layer here, bench/README.md).
    mq::core::restartIfBlasMisdetected(argv);
    if (onlyWantsText(argc, argv)) {
        QCoreApplication core(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("MorphoQuant Workbench"));
        QCoreApplication::setApplicationVersion(QStringLiteral(PROJECT_VERSION_STRING));
        QCommandLineParser parser;
        describeCommandLine(parser);
        parser.process(core); // prints and exits
        return 0;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("MorphoQuant Workbench"));
    QApplication::setOrganizationName(QStringLiteral("MorphoQuant"));
    QApplication::setApplicationVersion(QStringLiteral(PROJECT_VERSION_STRING));
    mq::core::initRuntime(0);

    // The language picked in View > Language, else the system's; English needs no translator.
    const QString language = QSettings().value(QStringLiteral("language")).toString();
    const QLocale locale = language.isEmpty() ? QLocale() : QLocale(language);
    QTranslator translator;
    if (translator.load(locale, QStringLiteral("morphoquant"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&translator);
    QTranslator qtTranslator; // Qt's own strings (standard buttons, file dialogs)
    if (qtTranslator.load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                          QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(&qtTranslator);

    QCommandLineParser parser;
    describeCommandLine(parser);
    const QString screenshot = QStringLiteral("screenshot"), views = QStringLiteral("view"),
                  group = QStringLiteral("group"), shotSize = QStringLiteral("screenshot-size");
    parser.process(app);

    mq::ui::MainWindow w;
    const bool shot = parser.isSet(screenshot);
    if (!shot)
        w.restoreSettings();
    QString open = parser.positionalArguments().isEmpty() ? QString() : parser.positionalArguments().constFirst();
    // First start without arguments: the example session, so the views are populated at once.
    QSettings settings;
    if (open.isEmpty() && !shot && !settings.value(QStringLiteral("exampleShown")).toBool()) {
        open = mq::ui::MainWindow::exampleSessionPath();
        settings.setValue(QStringLiteral("exampleShown"), true);
    }
    if (!open.isEmpty()) {
        if (QFileInfo(open).isDir() && !shot) {
            w.startOpenModel(open);
        } else if (!w.openSession(open, shot) && shot) {
            std::fprintf(stderr, "morphoquant: cannot open %s\n", qPrintable(open));
            return 1;
        }
    }
    if (parser.isSet(group)) {
        // An unknown group is an error naming the valid ones (with a session in memory; a model
        // folder opens in the background and its groups are not known yet).
        const QString name = parser.value(group);
        if (w.session() && !w.jobs()->isRunning()) {
            const std::vector<std::string>& groups = w.session()->groups;
            if (std::find(groups.begin(), groups.end(), name.toStdString()) == groups.end()) {
                QStringList valid;
                for (size_t i = 0; i < groups.size() && i < 8; ++i)
                    valid << QString::fromStdString(groups[i]);
                if (groups.size() > 8)
                    valid << QStringLiteral("... (%1 in all)").arg(groups.size());
                std::fprintf(stderr, "morphoquant: unknown input group '%s' (this session has %s)\n", qPrintable(name),
                             qPrintable(valid.join(QStringLiteral(", "))));
                return 2;
            }
        } else if (!w.session() && open.isEmpty()) {
            std::fprintf(stderr, "morphoquant: --group needs a session or model to open\n");
            return 2;
        }
        w.selectGroup(name);
    }
    for (const QString& name : parser.value(views).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!w.raiseView(name.trimmed())) {
            std::fprintf(stderr, "morphoquant: unknown view '%s' (expected one of %s)\n", qPrintable(name),
                         qPrintable(mq::ui::MainWindow::viewNames().join(QStringLiteral(", "))));
            return 2;
        }
    }
    if (shot) {
        QSize size(1400, 900);
        if (parser.isSet(shotSize)) {
            const QStringList wh = parser.value(shotSize).split(QLatin1Char('x'));
            if (wh.size() == 2 && wh[0].toInt() > 0 && wh[1].toInt() > 0)
                size = QSize(wh[0].toInt(), wh[1].toInt());
            else {
                std::fprintf(stderr, "morphoquant: --screenshot-size expects WxH, e.g. 1400x1400\n");
                return 2;
            }
        }
        w.resize(size);
        w.show();
        settle();
        const QString out = parser.value(screenshot);
        if (!w.grab().save(out)) {
            std::fprintf(stderr, "morphoquant: cannot write %s\n", qPrintable(out));
            return 1;
        }
        return 0;
    }
    w.show();
    return app.exec();
}
