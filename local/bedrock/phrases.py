"""Sentence templates per language for the generator.

Written by hand so every supported language gets several natural sentences, enough for a
language-identification library to recognise the language of a generated email.
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},",
        "greeting_anon": "Hello,",
        "intro": "We have selected a few products that we think you will really like.",
        "look": "Take a look and find your new favourite.",
        "product": "{name} is available for {price} {currency}.",
        "context": "Good to know: {sentence}",
        "closing": "Thank you for shopping with us. We look forward to seeing you again soon.",
        "signoff": "Kind regards,\nYour customer team",
        "subject": "{name}, we picked these for you",
        "subject_anon": "Picked for you",
        "preheader": "Discover {product} and more from our selection.",
        "answer": "Here is what the provided information says:",
        "neutral": "Thank you for your message. The request did not include any customer or "
        "product details, so there is nothing specific to say yet. Please send the details "
        "you would like us to use.",
    },
    "de": {
        "greeting": "Hallo {name},",
        "greeting_anon": "Hallo,",
        "intro": "Wir haben einige Produkte für Sie ausgewählt, die Ihnen bestimmt gefallen werden.",
        "look": "Schauen Sie gerne vorbei und entdecken Sie Ihren neuen Favoriten.",
        "product": "{name} ist für {price} {currency} erhältlich.",
        "context": "Gut zu wissen: {sentence}",
        "closing": "Vielen Dank für Ihren Einkauf bei uns. Wir freuen uns darauf, Sie bald "
        "wieder bei uns zu begrüßen.",
        "signoff": "Viele Grüße\nIhr Kundenteam",
        "subject": "{name}, diese Auswahl haben wir für Sie zusammengestellt",
        "subject_anon": "Unsere Auswahl für Sie",
        "preheader": "Entdecken Sie {product} und weitere Produkte aus unserer Auswahl.",
        "answer": "Die bereitgestellten Informationen besagen Folgendes:",
        "neutral": "Vielen Dank für Ihre Nachricht. Die Anfrage enthielt keine Kunden- oder "
        "Produktdaten, daher gibt es noch nichts Konkretes zu sagen. Bitte senden Sie uns die "
        "Angaben, die wir verwenden sollen.",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anon": "Bonjour,",
        "intro": "Nous avons sélectionné quelques produits qui, nous en sommes sûrs, vont "
        "vous plaire.",
        "look": "Jetez-y un coup d'œil et trouvez votre nouveau coup de cœur.",
        "product": "{name} est disponible au prix de {price} {currency}.",
        "context": "Bon à savoir : {sentence}",
        "closing": "Merci pour votre confiance et pour vos achats chez nous. Nous serons ravis "
        "de vous revoir très bientôt.",
        "signoff": "Cordialement,\nVotre service client",
        "subject": "{name}, notre sélection rien que pour vous",
        "subject_anon": "Notre sélection pour vous",
        "preheader": "Découvrez {product} et d'autres produits de notre sélection.",
        "answer": "Voici ce que disent les informations fournies :",
        "neutral": "Merci pour votre message. La demande ne contenait aucune information sur "
        "le client ou les produits, il n'y a donc rien de précis à dire pour le moment. Merci "
        "de nous envoyer les informations à utiliser.",
    },
    "es": {
        "greeting": "Hola {name},",
        "greeting_anon": "Hola,",
        "intro": "Hemos seleccionado algunos productos que creemos que te van a encantar.",
        "look": "Échales un vistazo y encuentra tu nuevo favorito.",
        "product": "{name} está disponible por {price} {currency}.",
        "context": "Dato útil: {sentence}",
        "closing": "Gracias por comprar con nosotros. Esperamos verte de nuevo muy pronto.",
        "signoff": "Saludos cordiales,\nTu equipo de atención al cliente",
        "subject": "{name}, hemos elegido esto para ti",
        "subject_anon": "Elegido para ti",
        "preheader": "Descubre {product} y mucho más en nuestra selección.",
        "answer": "Esto es lo que dice la información proporcionada:",
        "neutral": "Gracias por tu mensaje. La solicitud no incluía datos de clientes ni de "
        "productos, así que todavía no hay nada concreto que decir. Por favor, envíanos los "
        "datos que quieres que utilicemos.",
    },
    "it": {
        "greeting": "Ciao {name},",
        "greeting_anon": "Ciao,",
        "intro": "Abbiamo selezionato alcuni prodotti che pensiamo ti piaceranno davvero.",
        "look": "Dai un'occhiata e trova il tuo nuovo preferito.",
        "product": "{name} è disponibile a {price} {currency}.",
        "context": "Buono a sapersi: {sentence}",
        "closing": "Grazie per aver acquistato da noi. Speriamo di rivederti presto.",
        "signoff": "Cordiali saluti,\nIl tuo servizio clienti",
        "subject": "{name}, abbiamo scelto questi prodotti per te",
        "subject_anon": "Scelti per te",
        "preheader": "Scopri {product} e molto altro nella nostra selezione.",
        "answer": "Ecco cosa dicono le informazioni fornite:",
        "neutral": "Grazie per il tuo messaggio. La richiesta non conteneva dati su clienti o "
        "prodotti, quindi non c'è ancora nulla di specifico da dire. Inviaci i dati che "
        "desideri che utilizziamo.",
    },
    "pt": {
        "greeting": "Olá {name},",
        "greeting_anon": "Olá,",
        "intro": "Selecionamos alguns produtos que achamos que você vai adorar.",
        "look": "Dê uma olhada e encontre o seu novo favorito.",
        "product": "{name} está disponível por {price} {currency}.",
        "context": "Vale a pena saber: {sentence}",
        "closing": "Obrigado por comprar conosco. Esperamos ver você novamente em breve.",
        "signoff": "Atenciosamente,\nSua equipe de atendimento",
        "subject": "{name}, escolhemos estes produtos para você",
        "subject_anon": "Escolhidos para você",
        "preheader": "Descubra {product} e muito mais na nossa seleção.",
        "answer": "Veja o que dizem as informações fornecidas:",
        "neutral": "Obrigado pela sua mensagem. A solicitação não incluía dados de clientes "
        "nem de produtos, então ainda não há nada específico a dizer. Envie-nos os dados que "
        "devemos usar.",
    },
    "nl": {
        "greeting": "Hallo {name},",
        "greeting_anon": "Hallo,",
        "intro": "We hebben een paar producten voor je uitgekozen waarvan we denken dat je ze "
        "echt leuk zult vinden.",
        "look": "Neem gerust een kijkje en vind je nieuwe favoriet.",
        "product": "{name} is verkrijgbaar voor {price} {currency}.",
        "context": "Goed om te weten: {sentence}",
        "closing": "Bedankt dat je bij ons winkelt. We zien je graag snel weer terug.",
        "signoff": "Met vriendelijke groet,\nJe klantenservice",
        "subject": "{name}, deze producten hebben we voor je gekozen",
        "subject_anon": "Voor jou gekozen",
        "preheader": "Ontdek {product} en nog veel meer in onze selectie.",
        "answer": "Dit staat er in de aangeleverde informatie:",
        "neutral": "Bedankt voor je bericht. Het verzoek bevatte geen klant- of "
        "productgegevens, dus er is nog niets specifieks te zeggen. Stuur ons de gegevens die "
        "we moeten gebruiken.",
    },
    "ja": {
        "greeting": "{name}様",
        "greeting_anon": "お客様各位",
        "intro": "お客様にきっと気に入っていただけると思う商品をいくつか選びました。",
        "look": "ぜひご覧いただき、新しいお気に入りを見つけてください。",
        "product": "{name}は{price} {currency}でお求めいただけます。",
        "context": "ご参考までに：{sentence}",
        "closing": "いつもご利用いただき、誠にありがとうございます。またのご来店を心よりお待ちしております。",
        "signoff": "敬具\nカスタマーサービスチーム",
        "subject": "{name}様へのおすすめ商品",
        "subject_anon": "あなたへのおすすめ",
        "preheader": "{product}など、厳選した商品をぜひご覧ください。",
        "answer": "提供された情報によると、次のとおりです：",
        "neutral": "メッセージをお送りいただきありがとうございます。リクエストにはお客様や商品の情報が"
        "含まれていなかったため、現時点で具体的にお伝えできることはありません。使用する情報をお送りください。",
    },
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(PHRASES)

# Language names a prompt may use instead of a code: English names and native names.
LANGUAGE_NAMES: dict[str, str] = {
    "english": "en", "englisch": "en", "anglais": "en", "inglés": "en", "ingles": "en",
    "inglese": "en", "inglês": "en", "engels": "en", "英語": "en",
    "german": "de", "deutsch": "de", "allemand": "de", "alemán": "de", "aleman": "de",
    "tedesco": "de", "alemão": "de", "duits": "de", "ドイツ語": "de",
    "french": "fr", "français": "fr", "francais": "fr", "französisch": "fr", "francés": "fr",
    "francese": "fr", "francês": "fr", "frans": "fr", "フランス語": "fr",
    "spanish": "es", "español": "es", "espanol": "es", "castellano": "es", "spanisch": "es",
    "espagnol": "es", "spagnolo": "es", "espanhol": "es", "spaans": "es", "スペイン語": "es",
    "italian": "it", "italiano": "it", "italienisch": "it", "italien": "it", "italiaans": "it",
    "イタリア語": "it",
    "portuguese": "pt", "português": "pt", "portugues": "pt", "portugiesisch": "pt",
    "portugais": "pt", "portugués": "pt", "portoghese": "pt", "portugees": "pt",
    "ポルトガル語": "pt",
    "dutch": "nl", "nederlands": "nl", "niederländisch": "nl", "néerlandais": "nl",
    "neerlandés": "nl", "olandese": "nl", "holandês": "nl", "flemish": "nl", "オランダ語": "nl",
    "japanese": "ja", "日本語": "ja", "japanisch": "ja", "japonais": "ja", "japonés": "ja",
    "giapponese": "ja", "japonês": "ja", "japans": "ja",
}
