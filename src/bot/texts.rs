//! What herald says, in English and French.

use crate::domain::Lang;

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
                     Vous recevrez ici les messages que vos administrateurs vous envoient."
            .to_string(),
        Lang::En => "**herald** delivers your company's campaigns and broadcasts right in \
                     Teams.\n\n\
                     - **help**: this message\n\n\
                     Messages your administrators send you will arrive in this chat."
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
