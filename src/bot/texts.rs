//! What herald says, in English and French.

use crate::domain::Lang;
use crate::domain::commands::FieldError;
use crate::domain::problem::Problem;
use crate::domain::text::escape_markdown;

/// `s` in bold, its Markdown escaped.
pub fn bold(s: &str) -> String {
    format!("**{}**", escape_markdown(s))
}

/// `head`, then one line per field that did not hold up.
pub fn field_errors(lang: Lang, head: &str, errors: &[FieldError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let line = crate::t!(
                lang,
                "field-error-line",
                field = e.field,
                problem = crate::texts::problem(lang, &e.problem),
                example = e.example,
            );
            format!("- {line}")
        })
        .collect();
    format!("{head}\n{}", lines.join("\n"))
}

/// Why a message is refused for its size: what it would weigh, Teams' limit, what to cut.
pub fn too_heavy(weight: usize, limit: usize) -> Problem {
    // Teams counts 2 bytes per character.
    let cut = (weight.saturating_sub(limit)).div_ceil(2);
    Problem::new("field-too-heavy")
        .with_number("weight", weight as i64)
        .with_number("kb", (limit / 1024) as i64)
        .with_number("limit", limit as i64)
        .with_number("cut", cut as i64)
}

/// The first line of `list show`: the list and how many of its members installed herald.
pub fn members_head(lang: Lang, name: &str, installed: usize, total: usize) -> String {
    match lang {
        Lang::Fr => format!("{}: {installed}/{total} installés", bold(name)),
        Lang::En => format!("{}: {installed}/{total} installed", bold(name)),
    }
}

/// One member of a list (`email` already escaped), installed or not.
pub fn member_line(lang: Lang, email: &str, installed: bool) -> String {
    let state = match (lang, installed) {
        (Lang::Fr, true) => "installé",
        (Lang::Fr, false) => "non installé",
        (Lang::En, true) => "installed",
        (Lang::En, false) => "not installed",
    };
    format!("- {email} ({state})")
}

/// Where a page of `list show` stands, and how to see the next one.
pub fn page_footer(lang: Lang, name: &str, page: usize, pages: usize) -> String {
    let next = page + 1;
    match (lang, page < pages) {
        (Lang::Fr, true) => format!(
            "Page {page} sur {pages}. Page suivante : tapez {}.",
            bold(&format!("liste afficher {name} {next}"))
        ),
        (Lang::Fr, false) => format!("Page {page} sur {pages}, la dernière."),
        (Lang::En, true) => format!(
            "Page {page} of {pages}. Next page: type {}.",
            bold(&format!("list show {name} {next}"))
        ),
        (Lang::En, false) => format!("Page {page} of {pages}, the last."),
    }
}

/// A page of `list show` past the last one.
pub fn no_such_page(lang: Lang, name: &str, pages: usize) -> String {
    match lang {
        Lang::Fr => format!(
            "{} n'a que {pages} pages de membres : tapez {} pour la dernière.",
            bold(name),
            bold(&format!("liste afficher {name} {pages}"))
        ),
        Lang::En => format!(
            "{} has {pages} pages of members: type {} for the last one.",
            bold(name),
            bold(&format!("list show {name} {pages}"))
        ),
    }
}

pub fn welcome(lang: Lang, first_name: Option<&str>) -> String {
    let name = first_name.map(str::trim).filter(|n| !n.is_empty());
    match (lang, name) {
        (Lang::Fr, Some(n)) => format!(
            "Bonjour {n} ! Je suis **herald**. Votre entreprise m'utilise pour vous envoyer \
             ses annonces et ses messages. Tapez **aide** pour voir ce que je sais faire."
        ),
        (Lang::Fr, None) => "Bonjour ! Je suis **herald**. Votre entreprise m'utilise pour vous \
                             envoyer ses annonces et ses messages. Tapez **aide** pour voir ce \
                             que je sais faire."
            .to_string(),
        (Lang::En, Some(n)) => format!(
            "Hello {n}! I'm **herald**. Your company uses me to send you its announcements and \
             messages. Type **help** to see what I can do."
        ),
        (Lang::En, None) => "Hello! I'm **herald**. Your company uses me to send you its \
                             announcements and messages. Type **help** to see what I can do."
            .to_string(),
    }
}

pub fn help(lang: Lang) -> String {
    match lang {
        Lang::Fr => "**herald** remet les campagnes et les diffusions de votre entreprise \
                     directement dans Teams.\n\n\
                     - **aide** : ce message\n\n\
                     Vous recevrez ici les messages que vos administrateurs vous envoient. \
                     Pour répondre à une diffusion, utilisez son bouton **Répondre** ou écrivez \
                     simplement ici : votre message est transmis à son expéditeur."
            .to_string(),
        Lang::En => "**herald** delivers your company's campaigns and broadcasts right in \
                     Teams.\n\n\
                     - **help**: this message\n\n\
                     Messages your administrators send you will arrive in this chat. To answer a \
                     broadcast, use its **Reply** button or just write here: your message goes \
                     to its sender."
            .to_string(),
    }
}

pub fn hint(lang: Lang) -> String {
    match lang {
        Lang::Fr => {
            "Je n'ai pas compris. Tapez **aide** pour voir ce que je sais faire.".to_string()
        }
        Lang::En => "I didn't understand that. Type **help** to see what I can do.".to_string(),
    }
}

/// The one answer on a channel herald does not serve (Web Chat, Direct Line, …).
pub fn channel_not_served(lang: Lang) -> String {
    match lang {
        Lang::Fr => "herald fonctionne dans Microsoft Teams : retrouvez-moi là-bas.".to_string(),
        Lang::En => "herald works in Microsoft Teams: find me there.".to_string(),
    }
}

/// Help for admins: what they can type today.
pub fn admin_help(lang: Lang) -> String {
    match lang {
        Lang::Fr => "**herald** — commandes d'administration :\n\n\
                     - **listes** : vos listes de diffusion\n\
                     - **liste créer** *nom* *emails…* : crée une liste\n\
                     - **liste ajouter** / **retirer** *nom* *emails…*\n\
                     - **liste afficher** *nom* [*page*] : les membres, installés ou non, par pages\n\
                     - **liste supprimer** *nom*\n\
                     - **campagnes** : vos campagnes et leur avancement\n\
                     - **campagne créer** *nom*, puis une ligne par champ (liste:, canal:, début:, \
                     durée:, horaires:, fuseau:, présence:) et **message:** suivi du texte\n\
                     - **campagne modifier** *nom* + les champs à changer (avant le début)\n\
                     - **campagne info** / **rapport** / **supprimer** *nom*\n\
                     - **campagne essayer** *nom* *email* : envoie le message maintenant à une personne\n\
                     - **diffusion** *liste* (ou **tous**), puis **sujet:** et le texte en dessous : \
                     envoie maintenant (**diffusion** seul ouvre le formulaire)\n\
                     - **diffusions** : les dernières diffusions, remises et lues\n\
                     - **diffusion info** *n°* : le détail, et qui ne l'a pas encore lue\n\
                     - **diffusion supprimer** *n°* : la retire de toutes les conversations\n\
                     - **audit** [*page*] : les dernières actions d'administration\n\n\
                     Les emails peuvent être séparés par des espaces, des virgules ou des retours à la ligne."
            .to_string(),
        Lang::En => "**herald** — admin commands:\n\n\
                     - **lists**: your distribution lists\n\
                     - **list create** *name* *emails…*: creates a list\n\
                     - **list add** / **remove** *name* *emails…*\n\
                     - **list show** *name* [*page*]: members, installed or not, in pages\n\
                     - **list delete** *name*\n\
                     - **campaigns**: your campaigns and their progress\n\
                     - **campaign create** *name*, then one line per field (list:, channel:, start:, \
                     duration:, hours:, timezone:, presence:) and **message:** followed by the text\n\
                     - **campaign edit** *name* + the fields to change (before the start)\n\
                     - **campaign info** / **report** / **delete** *name*\n\
                     - **campaign test** *name* *email*: sends the message now to one person\n\
                     - **broadcast** *list* (or **all**), then **subject:** and the text below it: \
                     sends now (**broadcast** alone opens the form)\n\
                     - **broadcasts**: the latest broadcasts, delivered and read\n\
                     - **broadcast info** *n°*: the detail, and who has not read it yet\n\
                     - **broadcast delete** *n°*: removes it from every chat\n\
                     - **audit** [*page*]: the latest admin actions\n\n\
                     Emails can be separated by spaces, commas or new lines."
            .to_string(),
    }
}

pub fn refusal(lang: Lang) -> String {
    match lang {
        Lang::Fr => "Désolé, seuls les administrateurs de herald peuvent utiliser cette commande. \
                     Demandez à votre équipe informatique si vous avez besoin d'un accès."
            .to_string(),
        Lang::En => "Sorry, only herald's administrators can use this command. Ask your IT team \
                     if you need access."
            .to_string(),
    }
}
