#include "guide_dialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QMenu>
#include <QMenuBar>
#include <QRegularExpression>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace mq::ui {

namespace {

// Every action of a menu and its submenus with a shortcut: (menu path, text, keys).
void collect(const QMenu* menu, const QString& path, QList<QStringList>& rows)
{
    for (const QAction* a : menu->actions()) {
        if (a->isSeparator())
            continue;
        QString text = a->text();
        text.remove(QRegularExpression(QStringLiteral("&(?!&)"))).replace(QStringLiteral("&&"), QStringLiteral("&"));
        if (a->menu()) {
            collect(a->menu(), path + QStringLiteral(" \u2192 ") + text, rows);
            continue;
        }
        QStringList keys;
        for (const QKeySequence& k : a->shortcuts())
            keys << k.toString(QKeySequence::NativeText);
        if (!keys.isEmpty())
            rows << QStringList{path, text, keys.join(QStringLiteral(", "))};
    }
}

} // namespace

QString GuideDialog::html(const QMenuBar* menus)
{
    QString h;
    h += QStringLiteral("<h2>%1</h2>").arg(GuideDialog::tr("A study, step by step").toHtmlEscaped());
    h += QStringLiteral("<ol>");
    for (const QString& s : {GuideDialog::tr("<b>Calibrate</b> (Study \u2192 Calibrate): statistics of every Linear "
                                             "input, per channel and modality, from calibration data."),
                             GuideDialog::tr("<b>Look</b>: the heatmap shows D<sub>c</sub> of every channel; the "
                                             "outlier view and the DABC mask show the selected input group."),
                             GuideDialog::tr("<b>Tune</b>: k moves the thresholds \u03c4<sub>local</sub> and "
                                             "\u03c4<sub>global</sub> at once; MDQFO's p and \u03bb<sub>cos</sub> "
                                             "preview on the current layer."),
                             GuideDialog::tr("<b>Quantize</b> (Study \u2192 Quantize): the plan for every layer, "
                                             "its layer errors and its cost in effective bits."),
                             GuideDialog::tr("<b>Evaluate</b> and <b>export</b>: perplexity and KL divergence, then "
                                             "a quantized Hugging Face folder.")})
        h += QStringLiteral("<li>%1</li>").arg(s);
    h += QStringLiteral("</ol><p>%1</p>")
             .arg(GuideDialog::tr("Figures measured under an earlier plan are drawn grey and marked out of date "
                                  "until the plan is quantized (or evaluated) again."));

    h += QStringLiteral("<h2>%1</h2><table cellspacing='0' cellpadding='4' border='1'>")
             .arg(GuideDialog::tr("Glossary").toHtmlEscaped());
    const QString terms[][2] = {
        {QStringLiteral("D<sub>c</sub>"),
         GuideDialog::tr("Dispersion score of channel c: |max \u2212 min| / log(1 + mean|x| + 10<sup>\u22125</sup>) "
                         "(the authors' code) or |max \u2212 min| / log(\u2016X<sub>c</sub>\u2016<sub>1</sub> + "
                         "\u03b5) (the paper, Eq. 5).")},
        {QStringLiteral("\u03c4<sub>local</sub>, \u03c4<sub>global</sub>"),
         GuideDialog::tr("Thresholds \u03bc + k\u00b7\u03c3 of D<sub>c</sub> over the group's channels and over all "
                         "groups' channels; a channel above the active ones is an outlier.")},
        {QStringLiteral("DABC"),
         GuideDialog::tr("Distribution-Aware Bias Compensation: the outlier channels (the mask) keep their "
                         "quantization residual in 16 bits, an extra product over those channels only.")},
        {QStringLiteral("\u03c1"),
         GuideDialog::tr("Element threshold: only |x| > \u03c1\u00b7\u03b1<sub>c</sub> of a masked channel is "
                         "compensated.")},
        {QStringLiteral("\u03b1<sub>c</sub>, \u03b1<sub>0</sub>"),
         GuideDialog::tr("Clipping bound of channel c (its static scale is \u03b1<sub>c</sub> / q<sub>max</sub>); "
                         "\u03b1<sub>0</sub> = max|X<sub>c</sub>| over the calibration data.")},
        {QStringLiteral("MDQFO"),
         GuideDialog::tr("Morphology-Directed Quantization Function Optimization: each \u03b1<sub>c</sub> chosen "
                         "to minimize L<sub>p</sub> + \u03bb<sub>cos</sub>\u00b7L<sub>cos</sub>.")},
        {QStringLiteral("L<sub>p</sub>, L<sub>cos</sub>"),
         GuideDialog::tr("mean |x \u2212 Q(x)|<sup>p</sup>, and 1 \u2212 the mean cosine of each token with its "
                         "quantized value.")},
        {QStringLiteral("SQNR"),
         GuideDialog::tr("10 log<sub>10</sub>(\u03a3|y|<sup>2</sup> / \u03a3|y \u2212 y<sub>q</sub>|<sup>2</sup>) of "
                         "a Linear's output, quantized against full precision, in dB.")},
        {QStringLiteral("KL"),
         GuideDialog::tr("Mean KL(full precision \u2016 quantized) of the next-token distributions, in nats per "
                         "token.")},
        {GuideDialog::tr("Effective bits"),
         GuideDialog::tr("Bits per activation element (and per multiply-add) with scales, zero points and "
                         "compensated elements counted; bits per weight with scales.")},
        {GuideDialog::tr("Input group"),
         GuideDialog::tr("The Linears that read one input: q/k/v, o, gate/up, down of each layer.")},
        {GuideDialog::tr("Simulated, deployable"),
         GuideDialog::tr("Simulated: weights and activations quantized separately, as the paper. Deployable: "
                         "static activation scales folded into the weights, so an integer GEMM runs.")},
    };
    for (const auto& t : terms)
        h += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(t[0], t[1]);
    h += QStringLiteral("</table>");

    QList<QStringList> rows;
    if (menus)
        for (const QAction* a : menus->actions())
            if (a->menu()) {
                QString text = a->text();
                text.remove(QRegularExpression(QStringLiteral("&(?!&)")));
                collect(a->menu(), text, rows);
            }
    h += QStringLiteral("<h2>%1</h2><table cellspacing='0' cellpadding='4' border='1'>")
             .arg(GuideDialog::tr("Keyboard shortcuts").toHtmlEscaped());
    for (const QStringList& r : rows)
        h += QStringLiteral("<tr><td>%1 \u2192 %2</td><td><b>%3</b></td></tr>")
                 .arg(r[0].toHtmlEscaped(), r[1].toHtmlEscaped(), r[2].toHtmlEscaped());
    h += QStringLiteral("<tr><td>%1</td><td><b>%2</b></td></tr>")
             .arg(GuideDialog::tr("Heatmap: zoom / pan the channels").toHtmlEscaped(),
                  GuideDialog::tr("Wheel / drag").toHtmlEscaped());
    h += QStringLiteral("</table>");
    return h;
}

GuideDialog::GuideDialog(const QMenuBar* menus, QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("MorphoQuant Workbench Guide"));
    m_browser = new QTextBrowser(this);
    m_browser->setOpenExternalLinks(true);
    m_browser->setHtml(html(menus));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_browser);
    layout->addWidget(buttons);
    resize(760, 640);
}

} // namespace mq::ui
