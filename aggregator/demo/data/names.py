"""Shop-name material: categories with their weights, name templates, hours and descriptions.

Templates use ``{surname}``, ``{first}``, ``{q}`` (a quarter, bare: "Saint-Cyprien") and ``{dq}``
(its "de" form: "des Carmes").
"""

from __future__ import annotations

# Word lists read best as tables.
# fmt: off
SURNAMES: tuple[str, ...] = (
    "Durand", "Martin", "Bernard", "Dubois", "Laffont", "Garrigues", "Fabre", "Castex",
    "Roques", "Bousquet", "Vidal", "Delmas", "Cazals", "Rouquette", "Puech", "Soulié",
    "Escudier", "Marty", "Lacombe", "Rigal", "Barthe", "Sabatier", "Cassagne", "Faure",
    "Lagarde", "Mercadier", "Pujol", "Sarrail", "Teisseire", "Carrère", "Dupuy", "Azéma",
    "Bonnafous", "Cabanes", "Estève", "Gineste", "Rescanières", "Baylac", "Moreau", "Nguyen",
    "Benali", "Ferreira", "Garcia", "Lopez", "Rossi", "Petit", "Xavier", "Lefèvre",
)

FIRST_NAMES: tuple[str, ...] = (
    "Léa", "Manon", "Camille", "Chloé", "Inès", "Jeanne", "Louise", "Zoé", "Paulette", "Marie",
    "Hugo", "Lucas", "Mathis", "Jules", "Louis", "Théo", "Bastien", "Pierre", "Sylvain", "Joël",
    "Ana", "Nadia", "Karim", "Élodie", "Aurélie", "Émile", "Gaston", "Simone",
)

#: Shared by many categories.
SHOP_HOURS = (
    "Tu-Sa 09:30-12:30,14:00-19:00",
    "Mo-Sa 10:00-19:00",
    "Tu-Fr 09:00-12:30,14:30-19:00; Sa 09:00-18:00",
    "Mo 14:00-19:00; Tu-Sa 10:00-19:00",
)

#: category slug -> (weight, name templates, opening-hours choices, description sentences)
CATEGORIES: dict[str, tuple[int, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "boulangerie": (14, (
        "Boulangerie {q}", "Boulangerie {dq}", "Au Fournil de {first}", "Boulangerie {surname}",
        "Le Pétrin {dq}", "Aux Délices {dq}", "Boulangerie Pâtisserie {surname}",
        "La Mie de {first}",
    ), (
        "Tu-Sa 07:00-19:30; Su 07:00-12:30", "Mo-Sa 06:30-20:00",
        "We-Mo 07:00-13:30,15:30-19:30", "Mo-Fr 06:30-19:30; Sa 07:00-13:00",
    ), (
        "Pain au levain et viennoiseries pur beurre.", "Baguette tradition cuite toute la journée.",
        "Farines locales du Lauragais.", "Chocolatines et fénétra le week-end.",
    )),
    "patisserie": (5, (
        "Pâtisserie {surname}", "Maison {surname}", "Les Douceurs de {first}",
        "Pâtisserie {dq}", "Au Péché Mignon",
    ), ("Tu-Sa 09:00-19:00; Su 08:30-13:00", "We-Su 09:00-19:00"), (
        "Pâtisseries fines et chocolats maison.", "Spécialités à la violette de Toulouse.",
        "Gâteaux de fête sur commande.",
    )),
    "boucherie": (6, (
        "Boucherie {surname}", "Boucherie Charcuterie {surname}", "Boucherie {dq}",
        "La Maison du Canard", "Chez {first}, boucher",
    ), ("Tu-Sa 08:00-13:00,15:30-19:30", "Tu-Sa 07:30-19:30; Su 08:00-12:30"), (
        "Viandes d'éleveurs du Sud-Ouest.", "Saucisse de Toulouse faite maison.",
        "Volailles fermières et canard gras.",
    )),
    "fromagerie": (4, (
        "Fromagerie {surname}", "La Cloche à Fromage", "Fromagerie {dq}", "Le Plateau de {first}",
    ), ("Tu-Sa 08:30-13:00,15:30-19:30", "Tu-Sa 09:00-19:00; Su 09:00-12:30"), (
        "Fromages fermiers affinés sur place.", "Tommes des Pyrénées et roquefort.",
    )),
    "epicerie": (6, (
        "Épicerie {dq}", "L'Épicerie de {first}", "Épicerie Fine {surname}", "Le Garde-Manger",
        "Vrac et Compagnie", "Épicerie du Marché",
    ), SHOP_HOURS, (
        "Produits locaux et vrac.", "Épicerie fine du Sud-Ouest.", "Conserves artisanales.",
    )),
    "primeur": (5, (
        "Primeur {dq}", "Les Jardins de {first}", "Au Panier Frais", "Fruits et Légumes {surname}",
    ), ("Tu-Su 08:00-13:00", "Mo-Sa 08:00-19:30"), (
        "Fruits et légumes de saison.", "Maraîchers de la vallée de la Garonne.",
    )),
    "caviste": (4, (
        "La Cave {dq}", "Cave {surname}", "Le Cellier de {first}", "Les Vins {dq}",
    ), ("Tu-Sa 10:00-13:00,15:00-20:00",), (
        "Vins du Frontonnais et de Gaillac.", "Dégustations le vendredi soir.",
    )),
    "cave": (2, ("Cave à Bières {dq}", "La Cave à {first}"), ("Tu-Sa 11:00-20:00",), (
        "Bières artisanales occitanes.", "Spiritueux et armagnacs.",
    )),
    "fleuriste": (4, (
        "Fleurs d'Occitanie", "Au Jardin de {first}", "Fleuriste {dq}", "L'Atelier Floral",
        "Les Fleurs de {first}",
    ), ("Tu-Sa 09:00-19:30; Su 09:00-13:00",), (
        "Bouquets de saison et plantes.", "Compositions pour mariages et deuils.",
    )),
    "librairie": (3, (
        "Librairie {dq}", "Librairie Les Pages {dq}", "Les Mots de {first}", "Librairie {surname}",
        "La Bulle {dq}",
    ), SHOP_HOURS, ("Romans, BD et jeunesse.", "Rencontres avec des auteurs régionaux.")),
    "coiffure": (6, (
        "Salon de Coiffure Élégance", "Coiffure {first}", "L'Atelier de {first}",
        "Salon {surname}", "Hair {dq}", "Coiffure {dq}",
    ), ("Tu-Sa 09:00-19:00", "Tu-Fr 09:00-18:30; Sa 08:30-17:00"), (
        "Coiffure femmes, hommes et enfants.", "Barbier et soins du cheveu.",
    )),
    "restaurant": (8, (
        "Le Bistrot {dq}", "Chez {first}", "L'Auberge {dq}", "La Table de {first}",
        "Restaurant {surname}", "Le Comptoir {dq}", "Les Saveurs {dq}",
    ), ("Mo-Fr 12:00-14:00,19:00-22:30", "Tu-Sa 12:00-14:00,19:30-22:00"), (
        "Cuisine du Sud-Ouest.", "Cassoulet maison tous les jeudis.", "Plats à emporter.",
    )),
    "pizzeria": (4, (
        "Pizzeria Bella Napoli", "Pizza {first}", "Pizzeria {dq}", "La Dolce Vita",
        "Pizzeria Da {first}",
    ), ("Tu-Su 18:30-22:30", "Mo-Sa 11:30-14:00,18:00-22:30"), (
        "Pizzas au feu de bois.", "À emporter et en livraison.",
    )),
    "bar": (4, ("Le Bar {dq}", "Café {dq}", "Le Comptoir de {first}", "Bar des Sports"), (
        "Mo-Sa 07:30-20:00", "Tu-Sa 17:00-02:00",
    ), ("Bières locales et tapas.", "Retransmission des matchs du Stade.")),
    "vetements": (4, ("Boutique {first}", "L'Atelier {dq}", "Mode {dq}", "Dressing de {first}"),
                  SHOP_HOURS, ("Prêt-à-porter femme et homme.", "Créateurs occitans.")),
    "chaussures": (2, ("Chaussures {surname}", "Le Pas {dq}", "Au Bon Pied"), SHOP_HOURS, (
        "Chaussures de ville et espadrilles.", "Cordonnerie sur place.",
    )),
    "bijouterie": (2, ("Bijouterie {surname}", "L'Écrin {dq}", "Or et Argent {dq}"), SHOP_HOURS, (
        "Bijoux et réparations.", "Croix occitanes en argent.",
    )),
    "opticien": (2, ("Optique {surname}", "Opticien {dq}", "Lunettes et Vous"), SHOP_HOURS, (
        "Montures et lentilles.", "Examen de vue sur rendez-vous.",
    )),
    "quincaillerie": (2, ("Quincaillerie {surname}", "Quincaillerie {dq}", "Droguerie {dq}"), (
        "Tu-Sa 08:30-12:30,14:00-19:00",
    ), ("Outillage, clés minute et droguerie.",)),
    "producteur": (5, (
        "Ferme {surname}", "La Ferme de {first}", "GAEC {surname}", "Les Vergers de {first}",
        "Domaine {surname}",
    ), ("We 08:00-12:00; Sa 08:00-13:00", "Fr 16:00-19:00", "Sa 09:00-12:30"), (
        "Vente directe à la ferme.", "Agriculture biologique.", "Paniers sur commande.",
    )),
    "artisanat": (3, ("L'Atelier de {first}", "Terre et Pastel", "Créations {surname}"),
                  ("We-Sa 10:00-19:00",), (
        "Céramiques et objets teints au pastel.", "Artisanat d'art local.",
    )),
    "beaute": (3, ("Institut {first}", "Beauté {dq}", "L'Instant Beauté"), SHOP_HOURS, (
        "Soins du visage et du corps.", "Cosmétiques naturels.",
    )),
    "sport": (2, ("Sport {dq}", "Rugby Shop {surname}", "Cycles {surname}"), SHOP_HOURS, (
        "Matériel de rugby et de running.", "Réparation de vélos.",
    )),
    "jouets": (2, ("Le Coffre à Jouets", "Jouets {dq}", "La Ludothèque de {first}"), SHOP_HOURS, (
        "Jeux de société et jouets en bois.",
    )),
}

#: Chains: one name, several shops (distinct addresses and phones, one company).
CHAINS: tuple[tuple[str, str, int], ...] = (
    ("Boulangerie Ange", "boulangerie", 3),
    ("Maison Pillon", "patisserie", 2),
    ("Cave Spirituelle", "caviste", 2),
)

#: Very common names: the same name in different communes, different shops.
COMMON_NAMES: tuple[tuple[str, str, int], ...] = (
    ("Boulangerie du Centre", "boulangerie", 3),
    ("Bar des Sports", "bar", 2),
    ("Pizzeria Bella Napoli", "pizzeria", 2),
)

LEGAL_FORMS = ("SARL", "SAS", "EURL", "SASU")
EMAIL_PROVIDERS = ("gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net")
