"""`qikg docs` writes browsable HTML: the class hierarchy and every scheme's hierarchy readable."""

from lxml import html


def test_docs_write_an_index_with_the_hierarchies_and_a_page_per_scheme(cli, tmp_path):
    ran = cli("docs", "-o", str(tmp_path / "site"))
    assert ran.exit_code == 0, ran.err
    site = tmp_path / "site"
    index = html.parse(str(site / "index.html"))
    text = index.getroot().text_content()
    for name in ("Professional groups", "CFIR 2.0", "finding", "Available Resources", "nurse"):
        assert name.lower() in text.lower(), name
    # the hierarchy is nested: Funding sits inside Available Resources, inside Inner Setting
    funding = index.xpath("//li[code='cfir:Funding']")[0]
    ancestors = [li.findtext("code") for li in funding.iterancestors("li")]
    assert ancestors[:2] == ["cfir:AvailableResources", "cfir:InnerSetting"]
    nurse = index.xpath("//li[code='qikg:Nurse']")[0]
    assert next(nurse.iterancestors("li")).findtext("code") == "qikg:HealthProfessional"
    for link in index.xpath("//a/@href"):
        if not link.startswith(("http", "#")):
            assert (site / link).exists(), link
    assert (
        "qikg:Finding" in (site / "ontology.html").read_text()
        or "Finding" in (site / "ontology.html").read_text()
    )
    assert len(list(site.glob("scheme-*.html"))) >= 8


def test_docs_to_an_unwritable_place(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ran = cli("docs", "-o", str(blocker / "site"))
    assert ran.exit_code == 2 and "cannot write documentation" in ran.err
