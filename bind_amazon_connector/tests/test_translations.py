"""Every string of the addon a person can see has its Mexican Spanish translation."""
import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

ADDON = "bind_amazon_connector"


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):

    def test_every_string_is_translated_to_es_mx(self):
        # the terms Odoo's own export (the .pot) would hold, read from the current code and views
        reader = TranslationModuleReader(self.env.cr, [ADDON])
        terms = {source for module, _type, _name, _res_id, source, _value, _comments in reader
                 if module == ADDON and source and source.strip()}
        self.assertGreater(len(terms), 100, "the export found the addon's strings")
        po = polib.pofile(file_path(f"{ADDON}/i18n/es_MX.po"))
        translated = {entry.msgid for entry in po if not entry.obsolete and entry.msgstr.strip()}
        missing = sorted(terms - translated)
        self.assertFalse(missing, "Strings without an es_MX translation (%s):\n%s" % (
            len(missing), "\n".join(f"- {term!r}" for term in missing)))

    def test_es_mx_is_loaded_and_speaks_spanish(self):
        self.assertTrue(self.env["res.lang"]._lang_get("es_MX"), "the test database has es_MX loaded")
        Account = self.env["amazon.account"].with_context(lang="es_MX")
        labels = dict(Account._fields["state"]._description_selection(Account.env))
        self.assertEqual(labels["authorized"], "Autorizada")
