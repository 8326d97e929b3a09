# Cartes de rapport : rapports de campagne (et ce que les rapports de diffusion partagent).

report-title = Rapport de { $name } ({ $status })
report-progress = { $bar } ({ $done }/{ $total } remis)
report-chart-alt = Remises et clics dans le temps
report-download-csv = Télécharger le CSV
report-tracking-off = Suivi des liens désactivé (server.public_url n'est pas défini) : pas de graphique ni d'export.
report-waiting-next-attempt = { $waiting } (prochain essai { $at })
report-targeted = Ciblés
report-not-installed = Non installés
report-planned = Planifiés
report-delivered = Remis
report-waiting = En attente de présence
report-expired = Expirés
report-failed = Échecs
report-clicked = Ont cliqué (personnes)
report-clicks = Clics
report-read = Lus (accusés de lecture)
