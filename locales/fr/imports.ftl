# Listes depuis un fichier : les réponses à `liste importer <nom>` envoyée avec un fichier CSV ou Excel.

import-created = Liste { $name } créée depuis { $file } avec { $count ->
        [one] { $count } membre
       *[other] { $count } membres
    }.
import-replaced = Liste { $name } remplacée depuis { $file } : { $count ->
        [one] { $count } membre
       *[other] { $count } membres
    } maintenant, { $before } avant.
import-counts = Acceptées : { $accepted } · doublons : { $duplicates } · invalides : { $invalid }
import-invalid = Pas des adresses : { $items }
import-invalid-more = …et { $count } de plus.
import-nothing-changed = Rien n'a été modifié.
import-no-file = Envoyez le fichier avec la commande : joignez un fichier CSV ou Excel (.xlsx) à votre message et écrivez **liste importer** { $name } comme texte.
import-host-not-allowed = Le fichier est stocké sur { $host }, un hôte depuis lequel herald ne télécharge pas (bot.file_hosts).
import-bad-url = Le lien de téléchargement du fichier n'est pas une adresse https utilisable par herald.
import-too-large = { $file } dépasse { $limit }, le maximum que herald importe (bot.file_max_bytes). Ne gardez que la colonne des adresses, ou découpez le fichier.
import-download-failed = { $file } n'a pas pu être téléchargé ({ $reason }). Renvoyez-le dans un instant.
import-not-a-table = { $file } n'est ni un fichier CSV ni un fichier Excel. Enregistrez-le en CSV (UTF-8) ou Excel (.xlsx) et renvoyez-le.
import-bad-workbook = { $file } n'a pas pu être lu comme classeur Excel (endommagé ou protégé par mot de passe ?). Enregistrez-le à nouveau en .xlsx ou CSV et renvoyez-le.
import-empty = { $file } est vide.
import-no-address-column = { $file } n'a pas de colonne d'adresses e-mail. Nommez la colonne **email** (ou e-mail, UPN, Adresse e-mail, courriel) et renvoyez le fichier.
import-size = { $count } { $unit ->
        [mib] Mio
        [kib] Kio
       *[bytes] octets
    }
admin-help-import = Pour créer une liste depuis un fichier, envoyez dans cette conversation un fichier CSV ou Excel (.xlsx) avec **liste importer** *nom* comme message : la colonne des e-mails (ou UPN) est trouvée par son en-tête ou son contenu, et la liste est créée, ou remplacée si elle existe.
