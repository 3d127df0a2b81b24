#include "welcome_page.h"

#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace mq::ui {

WelcomePage::WelcomePage(QWidget* parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("welcomePage"));
    setAutoFillBackground(true);
    setFrameShape(QFrame::NoFrame);

    auto* title = new QLabel(tr("MorphoQuant Workbench"), this);
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    title->setFont(big);
    auto* subtitle = new QLabel(tr("Modality-aware 4-bit post-training quantization: look at each input's outliers, "
                                   "tune DABC and MDQFO, compare what each figure costs, export."),
                                this);
    subtitle->setWordWrap(true);

    m_example = new QPushButton(tr("Open the Example Session"), this);
    m_example->setToolTip(tr("stories260K, calibrated and quantized with MorphoQuant W4A4 when the workbench was built"));
    auto* session = new QPushButton(tr("Open a Session..."), this);
    auto* model = new QPushButton(tr("Open a Model Folder..."), this);
    auto* guide = new QPushButton(tr("Guide and Glossary"), this);
    for (QPushButton* b : {m_example, session, model, guide})
        b->setMinimumHeight(b->sizeHint().height() + 8);
    connect(m_example, &QPushButton::clicked, this, &WelcomePage::openExampleRequested);
    connect(session, &QPushButton::clicked, this, &WelcomePage::openSessionRequested);
    connect(model, &QPushButton::clicked, this, &WelcomePage::openModelRequested);
    connect(guide, &QPushButton::clicked, this, &WelcomePage::guideRequested);

    // The steps of a study, each with its menu entry.
    auto* steps = new QGridLayout;
    const QString rows[][2] = {
        {tr("1. Calibrate"), tr("Study \u2192 Calibrate: run calibration data (token ids or an Omni manifest) through "
                                "the model and gather each Linear input's per-channel statistics, per modality.")},
        {tr("2. Quantize"), tr("Tune the DABC threshold and MDQFO on the left, then Study \u2192 Quantize: the plan, "
                               "each layer's output error and what the plan costs in effective bits.")},
        {tr("3. Evaluate"), tr("Study \u2192 Evaluate: perplexity and KL divergence against full precision on an "
                               "evaluation file.")},
        {tr("4. Export"), tr("File \u2192 Export Quantized Model: a Hugging Face folder this tool or a serving stack "
                             "loads (compressed-tensors, NVFP4, or this tool's formats).")},
    };
    for (int i = 0; i < 4; ++i) {
        auto* name = new QLabel(QStringLiteral("<b>%1</b>").arg(rows[i][0].toHtmlEscaped()), this);
        auto* text = new QLabel(rows[i][1], this);
        text->setWordWrap(true);
        steps->addWidget(name, i, 0, Qt::AlignTop);
        steps->addWidget(text, i, 1);
    }
    steps->setColumnStretch(1, 1);

    m_recent = new QListWidget(this);
    m_recent->setMaximumHeight(140);
    connect(m_recent, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        emit openRecentRequested(item->data(Qt::UserRole).toString());
    });
    m_recentBox = new QWidget(this);
    auto* recentLayout = new QVBoxLayout(m_recentBox);
    recentLayout->setContentsMargins(0, 0, 0, 0);
    recentLayout->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(tr("Recent sessions").toHtmlEscaped()), this));
    recentLayout->addWidget(m_recent);

    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_example);
    buttons->addWidget(session);
    buttons->addWidget(model);
    buttons->addSpacing(8);
    buttons->addWidget(guide);
    buttons->addStretch(1);

    auto* columns = new QHBoxLayout;
    columns->addLayout(buttons);
    columns->addSpacing(24);
    auto* right = new QVBoxLayout;
    right->addWidget(new QLabel(QStringLiteral("<b>%1</b>").arg(tr("A study in four steps").toHtmlEscaped()), this));
    right->addLayout(steps);
    right->addSpacing(12);
    right->addWidget(m_recentBox);
    right->addStretch(1);
    columns->addLayout(right, 1);

    auto* inner = new QWidget(this);
    inner->setMaximumWidth(980);
    auto* innerLayout = new QVBoxLayout(inner);
    innerLayout->addWidget(title);
    innerLayout->addWidget(subtitle);
    innerLayout->addSpacing(16);
    innerLayout->addLayout(columns, 1);

    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(32, 32, 32, 32);
    outer->addStretch(1);
    outer->addWidget(inner, 4);
    outer->addStretch(1);
    setRecentFiles({});
}

void WelcomePage::setRecentFiles(const QStringList& paths)
{
    m_recent->clear();
    for (const QString& p : paths) {
        auto* item = new QListWidgetItem(QStringLiteral("%1  \u2014  %2").arg(QFileInfo(p).fileName(), QFileInfo(p).absolutePath()),
                                         m_recent);
        item->setData(Qt::UserRole, p);
        item->setToolTip(p);
    }
    m_recentBox->setVisible(!paths.isEmpty());
}

void WelcomePage::setExampleAvailable(bool available)
{
    m_example->setEnabled(available);
}

} // namespace mq::ui
