"""Citations on a page: `{{ cite("id") }}` marks, numbered by source file, and the page's Sources list.

Numbers follow the order in which a page first cites each source file, so they are the same
however often the page is rendered; the back-links from the Sources list count occurrences
and so need one `PageCitations` per render (macros/__init__.py makes a new one before each).
"""

from html import escape

from .claims import cited_ids


class CitationError(Exception):
    """A page cites what no claims file holds; the message is for the page's author."""

    for_readers = True  # build_checks prints it without an exception type


class PageCitations:
    """The citations of one page, in page order, and the Sources list they build."""

    def __init__(self, page, source_text, claims, registry):
        self.page, self.claims, self.registry = page, claims, registry
        self.files = []  # (key, path) of each cited source file, in the order first cited
        for _, claim_id in cited_ids(source_text):
            claim = claims.get(claim_id)
            if claim and claim.page == page and (claim.source_key, claim.path) not in self.files:
                self.files.append((claim.source_key, claim.path))
        self.anchors = {}  # claim id -> the anchors of its citations; ids in the order first cited

    def cite(self, *claim_ids):
        """The superscript link(s) for these claims."""
        if not claim_ids:
            raise CitationError("cite() needs at least one claim id")
        links, shown = [], {}  # one link per source number; other claims on it get a bare anchor
        for claim_id in claim_ids:
            claim = self._claim(claim_id)
            number = self.files.index((claim.source_key, claim.path)) + 1
            anchors = self.anchors.setdefault(claim_id, [])
            anchor = f"cite-{claim_id}" + (f"-{len(anchors) + 1}" if anchors else "")
            anchors.append(anchor)
            if number in shown:
                links[shown[number]] = f'<span id="{anchor}"></span>' + links[shown[number]]
                continue
            shown[number] = len(links)
            links.append(f'<a id="{anchor}" href="#source-{number}" '
                         f'title="{escape(claim.says)}">{number}</a>')
        return f'<sup class="lumi-cite">{", ".join(links)}</sup>'

    def uncited(self):
        """Claims filed for this page that it never cites."""
        return [c for c in self.claims.values() if c.page == self.page and c.id not in self.anchors]

    def sources_markdown(self):
        """The page's closing "Sources" section (empty when the page cites nothing)."""
        if not self.files:
            return ""
        items = []
        for number, (key, path) in enumerate(self.files, start=1):
            source = self.registry.sources[key]
            backed = [c for c in self.claims.values()
                      if c.page == self.page and (c.source_key, c.path) == (key, path)]
            uses = "".join(f'<li><a href="#{self.anchors[c.id][0]}">{escape(c.says)}</a></li>'
                           for c in sorted(backed, key=lambda c: list(self.anchors).index(c.id)))
            items.append(
                f'<li id="source-{number}"><p><a href="{source.file_url(path)}"><code>{escape(path)}</code></a>'
                f' in {escape(source.repository)}, commit <code>{source.commit[:7]}</code>'
                f' of {source.date}, read {source.read}.</p><ul>{uses}</ul></li>')
        return ("\n\n## Sources\n\n"
                "Each small raised number in the text links to the file it comes from, as it was "
                "at the commit shown. Under each file: what this page takes from it.\n\n"
                f'<ol class="lumi-sources">{"".join(items)}</ol>\n')

    def _claim(self, claim_id):
        claim = self.claims.get(claim_id)
        if claim is None:
            raise CitationError(f"cite({claim_id!r}): no such claim in data/claims/")
        if claim.page != self.page:
            raise CitationError(f"cite({claim_id!r}): that claim belongs to {claim.page} "
                                f"({claim.file.name}), not to {self.page}")
        return claim
