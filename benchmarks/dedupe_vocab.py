"""Word lists for the matching benchmark's synthetic French shops (see ``dedupe_data.py``).

Invented but plausible: common French surnames and first names, street names, commune-name
parts, shop-name templates per category, chain brands. No real shop's contact data.
"""

from __future__ import annotations

# Word lists read best as tables.
# fmt: off
SURNAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Jean", "Dupuy",
    "Guillot", "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Louis",
    "Deschamps", "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet",
    "Adam", "Paris", "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault",
    "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider",
    "Fernandez", "Le Gall", "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet",
    "Perrot", "Daniel", "Le Roux", "Cousin", "Germain", "Breton", "Besson", "Langlois",
    "Rémy", "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal",
    "Weber", "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez",
    "Guichard", "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin",
    "Chauvin", "Da Silva", "Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert",
    "Reynaud", "Antoine", "Hoarau", "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune",
    "Gilbert", "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte", "Castex", "Garrigues",
    "Laffont", "Bousquet", "Delmas", "Cazals", "Rouquette", "Puech", "Soulié", "Escudier",
    "Lacombe", "Rigal", "Barthe", "Sabatier", "Cassagne", "Lagarde", "Mercadier", "Pujol",
)
FIRST_NAMES: tuple[str, ...] = (
    "Léa", "Manon", "Camille", "Chloé", "Inès", "Jeanne", "Louise", "Zoé", "Marie", "Emma",
    "Hugo", "Lucas", "Mathis", "Jules", "Louis", "Théo", "Pierre", "Sylvain", "Joël", "Paul",
    "Nadia", "Karim", "Élodie", "Aurélie", "Émile", "Gaston", "Simone", "Julie", "Sophie",
    "Nicolas", "Julien", "Céline", "Sandrine", "Isabelle", "Christophe", "Stéphane", "Olivier",
    "Nathalie", "Laurent", "Valérie", "Franck", "Hélène", "Cédric", "Mélanie", "Jérôme",
)
SYLLABLES: tuple[str, ...] = (
    "ber", "lan", "cha", "mon", "ri", "vel", "tou", "gar", "del", "mas", "tin", "rou", "fa",
    "lo", "per", "sa", "bru", "nel", "cas", "tel", "vi", "dal", "mer", "ger", "ol", "pi",
)
STREET_NAMES: tuple[str, ...] = (
    "de la République", "Victor Hugo", "Jean Jaurès", "du Général de Gaulle", "de la Gare",
    "des Écoles", "Pasteur", "Gambetta", "du Moulin", "de l'Église", "Nationale", "du Stade",
    "Saint-Michel", "de la Paix", "du Château", "Carnot", "Jules Ferry", "Émile Zola",
    "de la Mairie", "des Lilas", "du Commerce", "Foch", "de la Liberté", "du 8 Mai 1945",
    "du 11 Novembre", "Voltaire", "des Tilleuls", "de Verdun", "Anatole France", "de Paris",
    "du Maréchal Leclerc", "Saint-Jacques", "des Acacias", "de la Fontaine", "Lafayette",
    "du Marché", "de la Poste", "Montesquieu", "des Vignes", "du Pont", "Sainte-Catherine",
    "Jean Moulin", "Georges Clemenceau", "de Strasbourg", "de Bordeaux", "de Toulouse",
    "des Chênes", "du Lavoir", "de la Croix", "Aristide Briand", "du Président Wilson",
    "des Carmes", "Alsace-Lorraine", "Saint-Rome", "des Filatiers", "du Taur", "de Metz",
    "Bayard", "de la Pomme", "Ozenne", "des Arts", "Pargaminières", "de la Colombette",
    "des Jardins", "du Port", "des Remparts", "de la Halle", "du Four", "des Pyrénées",
    "Louis Pasteur", "Marcel Pagnol", "Albert Camus", "des Peupliers", "du Bourg",
)
#: Street type, its weight, and the abbreviations platforms write.
STREET_TYPES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("rue", 55, ("r.", "R", "Rue")), ("avenue", 14, ("av.", "Av", "ave")),
    ("boulevard", 5, ("bd", "Bd", "bld")), ("place", 7, ("pl.", "Pl")),
    ("chemin", 8, ("chem.", "ch.", "Che")), ("route", 5, ("rte", "Rte")),
    ("impasse", 3, ("imp.", "Imp")), ("allée", 2, ("all.", "All")),
    ("faubourg", 1, ("fg", "Fbg")),
)
COMMUNE_ROOTS: tuple[str, ...] = (
    "Martin", "Jean", "Pierre", "Laurent", "Germain", "Clar", "Beau", "Mont", "Castel",
    "Ville", "Roque", "Fontaine", "Bois", "Bel", "Aur", "Cas", "Lis", "Mir", "Sauve", "Font",
    "Puy", "Cour", "Val", "Bour", "Mar", "Lau", "Lan", "Ser", "Tour", "Vic",
)
COMMUNE_SUFFIXES: tuple[str, ...] = (
    "ac", "an", "ens", "ignan", "ville", "court", "mont", "euil", "ières", "ay", "ac", "as",
)
COMMUNE_TAILS: tuple[str, ...] = (
    "sur-Garonne", "de-Gascogne", "les-Bains", "en-Provence", "sur-Mer", "le-Château",
    "la-Forêt", "du-Lot", "sur-Loire", "de-Bigorre",
)
LEGAL_FORMS: tuple[str, ...] = ("SARL", "SAS", "EURL", "SASU", "EI", "SNC", "EARL", "GAEC")
EMAIL_PROVIDERS: tuple[str, ...] = ("gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr")

#: Category slug -> (weight, name templates, the labels platforms write for it).
#: Templates: {s} surname, {f} first name, {c} commune, {w} a street word.
CATEGORIES: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    "boulangerie": (14, ("Boulangerie {s}", "Boulangerie du Centre", "Au Fournil de {f}",
                         "Boulangerie Pâtisserie {s}", "La Mie de {f}", "Le Pétrin {c}",
                         "Boulangerie de la Place", "Aux Délices de {f}"),
                    ("Boulangerie", "Boulangerie Pâtisserie", "shop=bakery", "naf:10.71C",
                     "boulanger")),
    "patisserie": (4, ("Pâtisserie {s}", "Maison {s}", "Les Douceurs de {f}"),
                   ("Pâtisserie", "shop=pastry", "naf:10.71D", "Chocolaterie")),
    "boucherie": (6, ("Boucherie {s}", "Boucherie Charcuterie {s}", "Boucherie du Marché",
                      "Chez {f} boucher"),
                  ("Boucherie", "Boucher Charcutier", "shop=butcher", "naf:47.22Z")),
    "fromagerie": (3, ("Fromagerie {s}", "La Cloche à Fromage", "Le Plateau de {f}"),
                   ("Fromagerie", "Crèmerie - Fromage", "shop=cheese")),
    "epicerie": (7, ("Épicerie {s}", "L'Épicerie de {f}", "Épicerie Fine {s}",
                     "Épicerie du Marché", "Vrac et Compagnie {c}", "Le Garde-Manger {c}"),
                 ("Épicerie", "Epicerie fine", "shop=convenience", "naf:47.11B", "Alimentation")),
    "primeur": (4, ("Primeur {s}", "Les Jardins de {f}", "Fruits et Légumes {s}"),
                ("Primeur", "Fruits et légumes", "shop=greengrocer", "naf:47.21Z")),
    "caviste": (4, ("Cave {s}", "Le Cellier de {f}", "La Cave {c}", "Les Vins de {f}"),
                ("Caviste", "Vins et spiritueux", "shop=wine", "naf:47.25Z")),
    "fleuriste": (4, ("Fleurs de {f}", "Au Jardin de {f}", "Fleuriste {s}",
                      "L'Atelier Floral {c}"),
                  ("Fleuriste", "Fleurs", "shop=florist", "naf:47.76Z")),
    "librairie": (3, ("Librairie {s}", "Les Mots de {f}", "Librairie du Centre"),
                  ("Librairie", "Librairie papeterie", "shop=books", "naf:47.61Z")),
    "coiffure": (9, ("Coiffure {f}", "Salon {s}", "L'Atelier de {f}", "Hair {c}",
                     "Coiffure {s}", "{f} Coiffure"),
                 ("Coiffure", "Salon de coiffure", "shop=hairdresser", "naf:96.02A")),
    "restaurant": (10, ("Le Bistrot de {f}", "Chez {f}", "Restaurant {s}", "La Table de {f}",
                        "Le Comptoir {c}", "L'Auberge {c}", "Les Saveurs de {f}"),
                   ("Restaurant", "Brasserie", "amenity=restaurant", "naf:56.10A")),
    "pizzeria": (4, ("Pizzeria Bella Napoli", "Pizza {f}", "Pizzeria {s}", "La Dolce Vita"),
                 ("Pizzeria", "pizzas", "cuisine=pizza")),
    "bar": (5, ("Bar des Sports", "Café de la Place", "Le Comptoir de {f}", "Bar {s}",
                "Café du Commerce"),
            ("Bar", "Café bar", "amenity=bar", "naf:56.30Z")),
    "vetements": (5, ("Boutique {f}", "Mode {s}", "Le Dressing de {f}"),
                  ("Vêtements", "Prêt-à-porter", "shop=clothes", "naf:47.71Z")),
    "chaussures": (2, ("Chaussures {s}", "Au Bon Pied"), ("Chaussures", "shop=shoes")),
    "bijouterie": (2, ("Bijouterie {s}", "L'Écrin de {f}"),
                   ("Bijouterie", "Bijoux", "shop=jewelry", "naf:47.77Z")),
    "opticien": (3, ("Optique {s}", "Opticien {s}", "Lunettes {c}"),
                 ("Opticien", "Optique", "shop=optician", "naf:47.78A")),
    "pharmacie": (5, ("Pharmacie {s}", "Pharmacie du Centre", "Pharmacie de la Gare",
                      "Grande Pharmacie {c}"),
                  ("Pharmacie", "amenity=pharmacy", "naf:47.73Z")),
    "quincaillerie": (2, ("Quincaillerie {s}", "Droguerie {s}"),
                      ("Quincaillerie", "Bricolage", "shop=hardware")),
    "producteur": (5, ("Ferme {s}", "La Ferme de {f}", "Les Vergers de {f}", "Domaine {s}"),
                   ("Producteur", "Vente directe", "Maraîcher", "naf:01.13Z")),
    "beaute": (4, ("Institut {f}", "Beauté {c}", "L'Instant Beauté {c}"),
               ("Institut de beauté", "Esthétique", "shop=beauty", "naf:96.02B")),
    "garage": (4, ("Garage {s}", "Garage du Centre", "Auto {c}"),
               ("Garage", "shop=car_repair", "naf:45.20A")),
    "tabac": (3, ("Tabac Presse {s}", "Le Balto", "Tabac de la Place"),
              ("Tabac presse", "shop=tobacco", "naf:47.26Z")),
    "services": (3, ("Pressing {s}", "Cordonnerie {s}", "Laverie {c}"),
                 ("Pressing", "Cordonnerie", "shop=dry_cleaning")),
}
#: Chain brands: one name, many shops (own address and phone), one company and website.
CHAINS: tuple[tuple[str, str], ...] = (
    ("Boulangerie Ange", "boulangerie"), ("Marie Blachère", "boulangerie"),
    ("Biocoop", "epicerie"), ("Carrefour City", "epicerie"), ("Franprix", "epicerie"),
    ("Optic 2000", "opticien"), ("Krys", "opticien"), ("Afflelou", "opticien"),
    ("Jean Louis David", "coiffure"), ("Franck Provost", "coiffure"), ("Nicolas", "caviste"),
    ("Pharmacie Lafayette", "pharmacie"), ("Grand Frais", "primeur"), ("Speedy", "garage"),
    ("Yves Rocher", "beaute"), ("Maison de la Presse", "tabac"), ("La Mie Câline", "boulangerie"),
    ("Pizza Hut", "pizzeria"), ("Le Fournil de Pierre", "boulangerie"), ("Intermarché", "epicerie"),
)
# fmt: on
