"""Every string of the addon a person can see has its Mexican Spanish translation."""
import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import PoFileReader, TranslationModuleReader

ADDON = "bind_amazon_connector"


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):

    def test_every_string_is_translated_to_es_mx_and_es(self):
        """Every term of the current code and views, in its place (a view, a field, a menu...), is translated as
        Odoo loads es_MX.po: merged with the template (.pot), whose terms and places win, so that a term the
        template lacks or places elsewhere is not loaded however the .po translates it (``make pot``). The same
        for es.po, which Odoo loads for every other Spanish (and under es_MX.po for Mexico)."""
        def place(kind, name, res_id, source):
            # a term of a view is translated for that view; a term of a record or of the code, wherever it is
            if kind == "model_terms":
                return (kind, name, str(res_id).split(".", 1)[-1], source)
            return (kind, source) if kind == "model" else ("code", source)

        reader = TranslationModuleReader(self.env.cr, [ADDON])
        terms = {place(kind, name, res_id, source)
                 for module, kind, name, res_id, source, _value, _comments in reader
                 if module == ADDON and source and source.strip()}
        self.assertGreater(len(terms), 100, "the export found the addon's strings")
        for lang in ("es_MX", "es"):
            po_path = file_path(f"{ADDON}/i18n/{lang}.po")
            loaded = {place(row["type"], row.get("name"), row.get("imd_name", ""), row["src"])
                      for row in PoFileReader(po_path) if row["value"].strip()}
            # records the addon creates at run time (a company's Amazon accounts, named by the code) are not in
            # the template of a fresh install: their terms count as translated when the .po translates them
            loaded |= {("model", entry.msgid) for entry in polib.pofile(po_path) if entry.msgstr.strip()}
            missing = sorted(terms - loaded)
            with self.subTest(lang=lang):
                self.assertFalse(missing, "Strings without an %s translation where they are shown (%s):\n%s" % (
                    lang, len(missing), "\n".join(f"- {term!r}" for term in missing)))

    def test_es_mx_is_loaded_and_speaks_spanish(self):
        self.assertTrue(self.env["res.lang"]._lang_get("es_MX"), "the test database has es_MX loaded")
        Account = self.env["amazon.account"].with_context(lang="es_MX")
        labels = dict(Account._fields["state"]._description_selection(Account.env))
        self.assertEqual(labels["authorized"], "Autorizada")
