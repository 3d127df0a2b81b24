// morphoquant: the workbench GUI.
#include "main_window.h"

#include "common/runtime.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

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

} // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("MorphoQuant Workbench"));
    QApplication::setOrganizationName(QStringLiteral("MorphoQuant"));
    QApplication::setApplicationVersion(QStringLiteral(PROJECT_VERSION_STRING));
    mq::core::initRuntime(0);

    QTranslator translator;
    if (translator.load(QLocale(), QStringLiteral("morphoquant"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&translator);

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "MorphoQuant Workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QApplication::translate("main", "Save a 1400x900 picture of the window to <png> and exit."),
                                        QStringLiteral("png"));
    parser.addOption(screenshot);
    parser.addPositionalArgument(QStringLiteral("session"), QApplication::translate("main", "Session file (.mqs) to open."));
    parser.process(app);

    mq::ui::MainWindow w;
    const bool shot = parser.isSet(screenshot);
    if (!shot)
        w.restoreSettings();
    if (!parser.positionalArguments().isEmpty()) {
        if (!w.openSession(parser.positionalArguments().constFirst(), shot) && shot) {
            std::fprintf(stderr, "morphoquant: cannot open %s\n", qPrintable(parser.positionalArguments().constFirst()));
            return 1;
        }
    }
    if (shot) {
        w.resize(1400, 900);
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
